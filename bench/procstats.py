"""What the soak benchmarks share: an API Gateway access-log line, a process's
resident memory and open descriptors, and a least-squares slope."""
import json
import os


def apigateway_line(request_id, n, at_ms):
    """One API Gateway access-log line (JSON), every 17th a 401."""
    return json.dumps({
        "requestId": request_id, "ip": f"198.51.100.{n % 250}",
        "requestTimeEpoch": at_ms, "httpMethod": "GET",
        "resourcePath": "/orders/{id}", "path": f"/prod/orders/{n}",
        "status": "200" if n % 17 else "401", "protocol": "HTTP/1.1",
        "responseLength": "512", "responseLatency": "35", "integrationLatency": "30",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0",
        "apiId": "a1b2c3d4e5", "stage": "prod",
    })


def rss_and_fds(pid):
    """The process's resident memory (VmRSS, KB) and open file descriptors."""
    with open(f"/proc/{pid}/status") as status:
        rss = next(int(l.split()[1]) for l in status if l.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def slope(points, per=1):
    """Least-squares slope of (x, y) points times `per` (None under two points)."""
    n = len(points)
    if n < 2:
        return None
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return per * sum((x - mx) * (y - my) for x, y in points) / var if var else None
