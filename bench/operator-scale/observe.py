"""Observes the API server for bench/operator-scale/run.sh (one light process instead of a kubectl per poll).

  observe.py table N START       seconds from START (epoch) until the routing-table ConfigMap(s) hold N routes
  observe.py statuses N START    seconds from START until N MailRoutes' status.configHash is the workload's hash
Prints "never" after the time-out (env OBSERVE_TIMEOUT, default 900 s). API server and token: env API, TOKEN.
"""
import base64, gzip, hashlib, json, os, ssl, sys, time, urllib.request

API, TOKEN = os.environ["API"], os.environ["TOKEN"]
CTX = ssl.create_default_context(); CTX.check_hostname = False; CTX.verify_mode = ssl.CERT_NONE
NS = "mail-relay"


def get(path):
    req = urllib.request.Request(API + path, headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req, context=CTX, timeout=120) as r:
        return json.load(r)


def table_routes():
    cm = get(f"/api/v1/namespaces/{NS}/configmaps/mail-relay-routes")
    text = (cm.get("data") or {}).get("routes.yaml", "")
    if "\nkind: RoutingTableParts\n" in text:
        files = [l.split("file: ")[1].strip() for l in text.splitlines() if l.strip().startswith("- file: ")]
        whole = hashlib.sha256()
        blob = b""
        for f in files:
            i = f[len("routes-"):-len(".gz")]
            part = get(f"/api/v1/namespaces/{NS}/configmaps/mail-relay-routes-{i}")
            blob += base64.b64decode(part["binaryData"][f])
        try:
            text = gzip.decompress(blob).decode()
        except Exception:
            return -1, cm["metadata"]["resourceVersion"]  # parts of another version: not yet
    return text.count("\n  - name: "), cm["metadata"]["resourceVersion"]


def statuses_current():
    dep = get(f"/apis/apps/v1/namespaces/{NS}/deployments/mail-relay")
    h = dep["spec"]["template"]["metadata"].get("annotations", {}).get("mailrelay.io/config-hash")
    n, cont = 0, ""
    while True:
        page = get("/apis/mailrelay.io/v1alpha1/mailroutes?limit=5000" + (f"&continue={cont}" if cont else ""))
        n += sum(1 for r in page["items"] if h and (r.get("status") or {}).get("configHash") == h)
        cont = page["metadata"].get("continue")
        if not cont:
            return n


def main():
    mode, n, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    deadline = time.time() + float(os.environ.get("OBSERVE_TIMEOUT", "900"))
    last_rv = None
    while time.time() < deadline:
        try:
            if mode == "table":
                count, rv = table_routes()
                if rv != last_rv or count != n:
                    last_rv = rv
                if count == n:
                    print(f"{time.time() - start:.2f}"); return
                time.sleep(0.1)
            else:
                if statuses_current() == n:
                    print(f"{time.time() - start:.2f}"); return
                time.sleep(0.5)
        except Exception:
            time.sleep(0.2)
    print("never")


main()
