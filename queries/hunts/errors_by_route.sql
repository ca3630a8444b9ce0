-- title: 5xx errors by route over time
-- description: Server errors per route in 5-minute buckets, with the error rate.
SELECT date_bin(INTERVAL '5 minutes', event_time, TIMESTAMP '2000-01-01T00:00:00Z') AS bucket,
       coalesce(route_key, http_method || ' ' || resource_path) AS route,
       count(*) AS requests,
       count(CASE WHEN status >= 500 THEN 1 END) AS errors_5xx,
       round(count(CASE WHEN status >= 500 THEN 1 END) * 1.0 / count(*), 3) AS error_rate
FROM apigateway
GROUP BY 1, 2
HAVING count(CASE WHEN status >= 500 THEN 1 END) > 0
ORDER BY bucket, errors_5xx DESC
