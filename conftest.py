pytest_plugins = ["paddle_verify.plugin"]
