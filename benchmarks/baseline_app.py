"""The baseline: bare Flask JSON endpoints, served by gunicorn exactly like the app.

``POST /echo`` parses the JSON body and answers ``{"ok": true}``; ``GET /json``
answers a small JSON object. The ratio against them measures what widget-server
adds on top of Flask and gunicorn.
"""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/echo")
def echo():
    request.get_json()
    return jsonify(ok=True)


@app.get("/json")
def small_json():
    return jsonify(ok=True, label="Call me back", colour="#0b6e4f")


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
