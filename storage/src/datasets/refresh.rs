//! How often a dataset is fetched from its `source_url`: every `N` minutes (`30m`), hours
//! (`6h`), or once a day at a UTC time (`daily 06:00`).

use time::{Duration, OffsetDateTime, Time};

use crate::{Error, Result};

/// A parsed `refresh` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Every so many minutes (at least 1).
    Every(u32),
    /// Every day at this UTC time.
    Daily(Time),
}

impl std::str::FromStr for Refresh {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("refresh", "use `30m`, `6h` (1 minute to 7 days) or `daily HH:MM` (UTC)");
        let s = s.trim();
        if let Some(at) = s.strip_prefix("daily ") {
            let (h, m) = at.trim().split_once(':').ok_or_else(bad)?;
            let (h, m) = (h.parse::<u8>().map_err(|_| bad())?, m.parse::<u8>().map_err(|_| bad())?);
            return Time::from_hms(h, m, 0).map(Refresh::Daily).map_err(|_| bad());
        }
        let (n, unit) = s.split_at(s.len().saturating_sub(1));
        let n: u32 = n.parse().map_err(|_| bad())?;
        let minutes = match unit {
            "m" => n,
            "h" => n.checked_mul(60).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if !(1..=7 * 24 * 60).contains(&minutes) {
            return Err(bad());
        }
        Ok(Refresh::Every(minutes))
    }
}

impl Refresh {
    /// The first fetch time after `last` (or, never fetched, `now`).
    pub fn next(self, last: Option<OffsetDateTime>, now: OffsetDateTime) -> OffsetDateTime {
        match (self, last) {
            (_, None) => now,
            (Refresh::Every(minutes), Some(last)) => last + Duration::minutes(i64::from(minutes)),
            (Refresh::Daily(at), Some(last)) => {
                let today = last.replace_time(at);
                if today > last {
                    today
                } else {
                    today + Duration::days(1)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn refresh_settings_parse_and_schedule() {
        assert_eq!("30m".parse::<Refresh>().expect("minutes"), Refresh::Every(30));
        assert_eq!("2h".parse::<Refresh>().expect("hours"), Refresh::Every(120));
        assert!("0m".parse::<Refresh>().is_err());
        assert!("soon".parse::<Refresh>().is_err());
        assert!("daily 25:00".parse::<Refresh>().is_err());
        let daily = "daily 06:30".parse::<Refresh>().expect("daily");
        let last = datetime!(2026-01-01 07:00 UTC);
        assert_eq!(daily.next(Some(last), last), datetime!(2026-01-02 06:30 UTC));
        assert_eq!(
            Refresh::Every(30).next(Some(last), last),
            datetime!(2026-01-01 07:30 UTC)
        );
        assert_eq!(Refresh::Every(30).next(None, last), last);
    }
}
