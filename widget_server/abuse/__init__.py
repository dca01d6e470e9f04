"""Anti-abuse: client address, phone-number policy, captcha, caps."""
