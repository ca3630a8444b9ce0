//! GeoIP and ASN look-ups in MaxMind DB files (GeoLite2/GeoIP2 City, Country, ASN, or any MMDB of their shape).

use maxminddb::{LookupResult, PathElement, Reader};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The MMDB files configured, each read whole into memory. A look-up asks
/// each in turn for a field and takes the first answer, so a City and an
/// ASN database together answer every function.
#[derive(Default)]
pub struct GeoDatabases {
    databases: Vec<GeoDatabase>,
}

struct GeoDatabase {
    location: String,
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoDatabases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.databases.iter().map(|d| &d.location))
            .finish()
    }
}

/// What the databases say about one address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeoFacts {
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

impl GeoFacts {
    /// The network: `AS64500 Example Hosting`, `AS64500`, or the organisation alone.
    pub fn network(&self) -> Option<String> {
        match (self.asn, &self.as_org) {
            (Some(asn), Some(org)) => Some(format!("AS{asn} {org}")),
            (Some(asn), None) => Some(format!("AS{asn}")),
            (None, Some(org)) => Some(org.clone()),
            (None, None) => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.city.is_none() && self.asn.is_none() && self.as_org.is_none()
    }
}

const COUNTRY: [PathElement<'static>; 2] =
    [PathElement::Key("country"), PathElement::Key("iso_code")];
/// Where a database without `country` (an anonymous IP or ASN-only one) has
/// the registered country.
const REGISTERED_COUNTRY: [PathElement<'static>; 2] = [
    PathElement::Key("registered_country"),
    PathElement::Key("iso_code"),
];
const CITY: [PathElement<'static>; 3] = [
    PathElement::Key("city"),
    PathElement::Key("names"),
    PathElement::Key("en"),
];
const ASN: [PathElement<'static>; 1] = [PathElement::Key("autonomous_system_number")];
const AS_ORG: [PathElement<'static>; 1] = [PathElement::Key("autonomous_system_organization")];
const LATITUDE: [PathElement<'static>; 2] =
    [PathElement::Key("location"), PathElement::Key("latitude")];
const LONGITUDE: [PathElement<'static>; 2] =
    [PathElement::Key("location"), PathElement::Key("longitude")];

impl GeoDatabases {
    /// Opens `files` (location, bytes), checking each is a MaxMind DB.
    pub fn open(files: Vec<(String, Vec<u8>)>) -> Result<GeoDatabases, crate::ContextError> {
        let mut databases = Vec::new();
        for (location, bytes) in files {
            let reader = Reader::from_source(bytes).map_err(|e| crate::ContextError::Format {
                location: location.clone(),
                reason: format!("not a MaxMind DB: {e}"),
            })?;
            databases.push(GeoDatabase { location, reader });
        }
        Ok(GeoDatabases { databases })
    }

    pub fn is_empty(&self) -> bool {
        self.databases.is_empty()
    }

    /// Each database's location and type (`GeoLite2-City`, ...).
    pub fn describe(&self) -> Vec<(String, String)> {
        self.databases
            .iter()
            .map(|d| {
                (
                    d.location.clone(),
                    d.reader.metadata().database_type.clone(),
                )
            })
            .collect()
    }

    /// Each database's record for `ip`: one walk of each database's tree,
    /// whatever the fields then read from it.
    fn records(&self, ip: &str) -> Option<Vec<LookupResult<'_, Vec<u8>>>> {
        let ip: IpAddr = ip.trim().parse().ok()?;
        Some(
            self.databases
                .iter()
                .filter_map(|db| db.reader.lookup(ip).ok())
                .collect(),
        )
    }

    /// The first answer any record gives, trying each path in turn over all
    /// the records (a City database's country before an ASN database's
    /// registered country).
    fn first<T>(records: &[LookupResult<'_, Vec<u8>>], paths: &[&[PathElement<'_>]]) -> Option<T>
    where
        T: for<'de> Deserialize<'de>,
    {
        paths.iter().find_map(|path| {
            records
                .iter()
                .find_map(|record| record.decode_path::<T>(path).ok().flatten())
        })
    }

    pub fn country(&self, ip: &str) -> Option<String> {
        Self::first(&self.records(ip)?, &[&COUNTRY, &REGISTERED_COUNTRY])
    }

    pub fn city(&self, ip: &str) -> Option<String> {
        Self::first(&self.records(ip)?, &[&CITY])
    }

    pub fn asn(&self, ip: &str) -> Option<u32> {
        Self::first(&self.records(ip)?, &[&ASN])
    }

    pub fn as_org(&self, ip: &str) -> Option<String> {
        Self::first(&self.records(ip)?, &[&AS_ORG])
    }

    /// Latitude and longitude, when a database knows both.
    pub fn location(&self, ip: &str) -> Option<(f64, f64)> {
        Self::location_of(&self.records(ip)?)
    }

    fn location_of(records: &[LookupResult<'_, Vec<u8>>]) -> Option<(f64, f64)> {
        Some((
            Self::first(records, &[&LATITUDE])?,
            Self::first(records, &[&LONGITUDE])?,
        ))
    }

    /// Everything known about `ip` (`None` without a database, or for text
    /// that is no address).
    pub fn facts(&self, ip: &str) -> Option<GeoFacts> {
        if self.databases.is_empty() {
            return None;
        }
        let records = self.records(ip)?;
        let location = Self::location_of(&records);
        Some(GeoFacts {
            country: Self::first(&records, &[&COUNTRY, &REGISTERED_COUNTRY]),
            city: Self::first(&records, &[&CITY]),
            asn: Self::first(&records, &[&ASN]),
            as_org: Self::first(&records, &[&AS_ORG]),
            latitude: location.map(|l| l.0),
            longitude: location.map(|l| l.1),
        })
    }
}

/// The great-circle distance between two points, in km (haversine, on a
/// sphere of the Earth's mean radius).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0088;
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_between_known_cities() {
        // Paris to New York: about 5,837 km.
        let d = distance_km((48.8566, 2.3522), (40.7128, -74.0060));
        assert!((d - 5837.0).abs() < 15.0, "{d}");
        assert_eq!(distance_km((10.0, 20.0), (10.0, 20.0)), 0.0);
    }

    #[test]
    fn no_database_knows_nothing_and_a_bad_file_is_refused() {
        let none = GeoDatabases::default();
        assert_eq!(none.country("8.8.8.8"), None);
        assert_eq!(none.facts("8.8.8.8"), None);
        let bad = GeoDatabases::open(vec![("x.mmdb".into(), b"not a database".to_vec())]);
        assert!(bad.unwrap_err().to_string().contains("not a MaxMind DB"));
    }
}
