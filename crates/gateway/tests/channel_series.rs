//! The health of VPC channels' members in a bounded set of series, however many channels
//! clients create. A binary of its own because the metrics recorder is process-wide: a gateway
//! running beside would set the same gauges.

use portico_gateway::metrics::{MAX_CHANNEL_SERIES, OTHER_CHANNELS};
use portico_model::new_id;

#[test]
fn channels_past_the_cap_share_one_series() {
    let handle = portico_gateway::metrics::install().expect("the only recorder of this test binary");
    let ids: Vec<String> = (0..3 * MAX_CHANNEL_SERIES).map(|_| new_id()).collect();
    portico_gateway::metrics::channel_health(ids.iter().map(|id| (id.as_str(), 1, 1)));
    let text = portico_gateway::metrics::render(&handle);
    let channels: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("portico_gateway_channel_members{"))
        .filter_map(|l| l.split("channel_id=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(channels.len(), MAX_CHANNEL_SERIES + 1, "{text}");
    assert!(channels.contains(OTHER_CHANNELS), "{text}");
    assert!(ids[..MAX_CHANNEL_SERIES].iter().all(|id| channels.contains(id.as_str())), "the first come keep theirs");
    let other =
        |state: &str| format!("portico_gateway_channel_members{{channel_id=\"{OTHER_CHANNELS}\",state=\"{state}\"}}");
    let past_the_cap = 2 * MAX_CHANNEL_SERIES;
    assert!(text.contains(&format!("{} {past_the_cap}\n", other("healthy"))), "{text}");
    assert!(text.contains(&format!("{} {past_the_cap}\n", other("unhealthy"))), "{text}");
}
