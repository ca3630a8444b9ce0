-- title: Top talkers per API
-- description: The clients that sent the most requests to each API, with their error counts and routes.
-- param: limit = 20 : how many clients per API
-- Per stored route first (building each request's route text before
-- grouping costs a fifth of the hunt), then per route text, then per
-- client: the routes are counted over those few rows, and as groups rather
-- than with count(DISTINCT ...), which keeps a set per client.
WITH per_route AS (
  SELECT coalesce(api_id, domain_name) AS api, src_ip, route_key, http_method, resource_path,
         count(*) AS requests,
         count(CASE WHEN status BETWEEN 400 AND 499 THEN 1 END) AS client_errors,
         count(CASE WHEN status >= 500 THEN 1 END) AS server_errors
  FROM apigateway
  GROUP BY 1, 2, 3, 4, 5
), per_client_route AS (
  SELECT api, src_ip, coalesce(route_key, http_method || ' ' || resource_path) AS route,
         sum(requests) AS requests, sum(client_errors) AS client_errors,
         sum(server_errors) AS server_errors
  FROM per_route
  GROUP BY 1, 2, 3
)
SELECT api, src_ip, requests, client_errors, server_errors, routes
FROM (
  SELECT api, src_ip, sum(requests) AS requests,
         sum(client_errors) AS client_errors, sum(server_errors) AS server_errors,
         count(route) AS routes,
         row_number() OVER (PARTITION BY api ORDER BY sum(requests) DESC) AS rank
  FROM per_client_route
  GROUP BY 1, 2
) t
WHERE rank <= ${limit}
ORDER BY api, requests DESC
