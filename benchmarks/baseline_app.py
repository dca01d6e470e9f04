"""The baseline: a bare Flask JSON endpoint, served by gunicorn exactly like the app.

``POST /echo`` parses the JSON body and answers ``{"ok": true}``, so the ratio
against it measures what widget-server adds on top of Flask and gunicorn.
"""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/echo")
def echo():
    request.get_json()
    return jsonify(ok=True)


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
