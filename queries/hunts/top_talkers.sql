-- title: Top talkers per API
-- description: The clients that sent the most requests to each API, with their error counts and routes.
-- param: limit = 20 : how many clients per API
-- Per route first, grouped by the stored columns (building each request's
-- route text before grouping costs a fifth of the hunt), then per client:
-- the routes are counted over those few rows, not over every request.
WITH per_route AS (
  SELECT api_id, domain_name, src_ip, route_key, http_method, resource_path,
         count(*) AS requests,
         count(CASE WHEN status BETWEEN 400 AND 499 THEN 1 END) AS client_errors,
         count(CASE WHEN status >= 500 THEN 1 END) AS server_errors
  FROM apigateway
  GROUP BY api_id, domain_name, src_ip, route_key, http_method, resource_path
)
SELECT api, src_ip, requests, client_errors, server_errors, routes
FROM (
  SELECT coalesce(api_id, domain_name) AS api, src_ip, sum(requests) AS requests,
         sum(client_errors) AS client_errors, sum(server_errors) AS server_errors,
         count(DISTINCT coalesce(route_key, http_method || ' ' || resource_path)) AS routes,
         row_number() OVER (PARTITION BY coalesce(api_id, domain_name) ORDER BY sum(requests) DESC) AS rank
  FROM per_route
  GROUP BY 1, 2
) t
WHERE rank <= ${limit}
ORDER BY api, requests DESC
