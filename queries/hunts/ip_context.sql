-- title: Where an address's traffic came from
-- description: The source addresses of one table's events, enriched: country, city and network (GeoIP, [context] geoip), whether a threat intelligence set lists them ([context] intel), and how many events each sent. The context functions enrich any hunt the same way.
-- param: min_events = 1 : leave out addresses with fewer events
SELECT src_ip, geo_country(src_ip) AS country, geo_city(src_ip) AS city,
       geo_asn(src_ip) AS asn, geo_as_org(src_ip) AS network,
       intel_match('ip', src_ip)['source'] AS listed_by,
       count(*) AS events, min(event_time) AS first_event, max(event_time) AS last_event
FROM events
WHERE src_ip IS NOT NULL
GROUP BY src_ip
HAVING count(*) >= ${min_events}
ORDER BY events DESC
