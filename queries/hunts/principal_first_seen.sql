-- title: What is known about a principal
-- description: The first_seen facts of one principal (user or role name, or any part of the ARN): each country, network, address, user agent and family, service and operation it was seen with, when first and last. Kept by the scheduled pass (vigil detect --due, the scheduled Lambda); countries and networks need [context] geoip.
-- param: principal = bob : a user or role name, or ARN fragment
SELECT principal, kind, value, first_seen, last_seen
FROM first_seen
WHERE principal LIKE '%' || ${principal} || '%'
ORDER BY principal, kind, first_seen
