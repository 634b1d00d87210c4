"""An independent implementation of Datallog's create-project, written from
its documentation (docs.datallog.com/api/create-project.html) and the
official CLI's calls, without understudy's code or fixture: the runner's
Datallog scenarios must pass against it as they pass against the mock.

Any token with any API key is an account (the service's real accounts are
not ours to know); names are unique per account and each account may hold
PLAN_LIMIT projects. State lasts as long as the process: every scenario of
a run shares it, as they share one account against the real service.

Usage: python3 datallog.py PORT  (prints "ready" when it listens)
"""
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PLAN_LIMIT = 3
REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2",
           "eu-west-1", "eu-central-1", "sa-east-1", "ap-southeast-1"]
RUNTIMES = ["python-3.8", "python-3.9", "python-3.10", "python-3.11", "python-3.12",
            "python-3.13", "python-3.14", "python-3.10-selenium", "custom"]
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PROJECTS = {}  # account -> set of names
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.split("?")[0] == "/platform-api/list-regions":
            return self.reply(200, {"regions": [{"region_name": r} for r in REGIONS]})
        self.reply(404, {"detail": "Not found."})

    def do_POST(self):
        if self.path.split("?")[0] not in ("/api/create-project", "/api/sdk/create-project"):
            return self.reply(404, {"detail": "Not found."})
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        auth = (self.headers.get("Authorization") or "").split(" ", 1)
        key = self.headers.get("x-api-key") or ""
        if len(auth) != 2 or auth[0].lower() != "token" or not auth[1] or not key:
            return self.reply(401, {"detail": "Authentication credentials were not provided."})
        account = (auth[1], key)
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return self.reply(400, {"message": "Invalid JSON"})
        missing = [f for f in ("region", "docker_version", "name") if f not in data]
        if missing:
            return self.reply(400, {"error": "Missing required field(s): " + ", ".join(missing)})
        if data["region"] not in REGIONS:
            return self.reply(400, {"message": "The selected region isn't supported"})
        if data["docker_version"] not in RUNTIMES:
            return self.reply(400, {"message": "This container image isn't supported"})
        name = data["name"]
        if not isinstance(name, str) or not NAME.match(name):
            return self.reply(400, {"message": (
                "Invalid project name. It must start with a lowercase letter or number, "
                "and can only contain lowercase letters, numbers, hyphens (-), or "
                "underscores (_). Uppercase letters and special characters are not allowed.")})
        with LOCK:
            names = PROJECTS.setdefault(account, set())
            if name in names:
                return self.reply(400, {"message": f"A project with the name '{name}' already exists."})
            if len(names) >= PLAN_LIMIT:
                return self.reply(400, {"message": "You've reached your plan's maximum project count, please update your plan"})
            names.add(name)
        self.reply(200, {"message": "Deploy created successfully"})


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
