-- title: Top talkers per API
-- description: The clients that sent the most requests to each API, with their error counts and routes.
-- param: limit = 20 : how many clients per API
SELECT api, src_ip, requests, client_errors, server_errors, routes
FROM (
  SELECT coalesce(api_id, domain_name) AS api, src_ip,
         count(*) AS requests,
         count(CASE WHEN status BETWEEN 400 AND 499 THEN 1 END) AS client_errors,
         count(CASE WHEN status >= 500 THEN 1 END) AS server_errors,
         count(DISTINCT coalesce(route_key, http_method || ' ' || resource_path)) AS routes,
         row_number() OVER (PARTITION BY coalesce(api_id, domain_name) ORDER BY count(*) DESC) AS rank
  FROM apigateway
  GROUP BY 1, 2
) t
WHERE rank <= ${limit}
ORDER BY api, requests DESC
