-- title: Slowest routes
-- description: Latency percentiles per API route (response latency as API Gateway logged it).
-- param: min_requests = 5 : leave out routes with fewer requests
SELECT coalesce(api_id, domain_name) AS api,
       coalesce(route_key, http_method || ' ' || resource_path) AS route,
       count(*) AS requests,
       round(approx_percentile_cont(response_latency_ms, 0.5), 1) AS p50_ms,
       round(approx_percentile_cont(response_latency_ms, 0.95), 1) AS p95_ms,
       round(approx_percentile_cont(response_latency_ms, 0.99), 1) AS p99_ms,
       max(response_latency_ms) AS max_ms
FROM apigateway
WHERE response_latency_ms IS NOT NULL
GROUP BY 1, 2
HAVING count(*) >= ${min_requests}
ORDER BY p95_ms DESC
