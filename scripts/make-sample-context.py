#!/usr/bin/env python3
"""Writes sample-context/geoip-sample.mmdb: a MaxMind DB (the shape of
GeoLite2 City and ASN together) with made-up facts about the documentation
address ranges the sample logs use. It is not real GeoIP data: production
needs a current GeoLite2/GeoIP2 database (see docs/CONTEXT.md).

Needs mmdb-writer (PyPI, pinned in scripts/test.sh's venv):
    ~/.cache/vigil-venv/bin/pip install mmdb-writer==0.2.7
"""
import os

from mmdb_writer import MMDBWriter, MmdbU32
from netaddr import IPSet

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sample-context")

# network, country, city, latitude, longitude, ASN, AS organisation
NETWORKS = [
    # The attacker's address (203.0.113.66): a hosting provider abroad.
    ("203.0.113.0/24", "NL", "Amsterdam", 52.3740, 4.8897, 64500, "Example Hosting B.V."),
    # The office (carol's and bob's usual address).
    ("192.0.2.0/24", "US", "Seattle", 47.6062, -122.3321, 64501, "Acme Corp"),
    # The API's customers.
    ("198.51.100.0/24", "US", "Chicago", 41.8781, -87.6298, 64502, "Example Broadband"),
    # Somewhere far from Seattle: a sign-in from here is a new country for bob.
    ("100.64.0.0/16", "SG", "Singapore", 1.3521, 103.8198, 64503, "Example Mobile Pte"),
]


def main():
    writer = MMDBWriter(ip_version=4, database_type="Vigil-Sample-City-ASN", languages=["en"],
                        description="Made-up GeoIP facts for Vigil's sample logs (documentation ranges only)")
    for network, country, city, lat, lon, asn, org in NETWORKS:
        writer.insert_network(IPSet([network]), {
            "country": {"iso_code": country, "names": {"en": country}},
            "city": {"names": {"en": city}},
            "location": {"latitude": lat, "longitude": lon},
            "autonomous_system_number": MmdbU32(asn),
            "autonomous_system_organization": org,
        })
    path = os.path.join(HERE, "geoip-sample.mmdb")
    writer.to_db_file(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
