//! Regions: routing reads each region's health (at health checks) and
//! saturation (per request); bytes that cross regions are billed.

use sim_engine::{Context, SimTime};

use super::{Event, Platform, TRAFFIC_CROSS_REGION};
use crate::cost::bytes_to_gb;
use crate::results::RoutingEvent;

impl Platform<'_> {
    /// Routing re-reads each region's health: alive if each of its API
    /// tiers has an instance in service.
    pub(super) fn health_check(&mut self, ctx: &mut Context<'_, Event>) {
        let Some(rc) = &self.cfg.regions else {
            return;
        };
        for (r, entry) in rc.entry_tiers.iter().enumerate() {
            let alive = entry.iter().all(|t| self.tiers.api[t.index()].alive());
            if alive != self.region_ok[r] {
                self.routing_log.push(RoutingEvent {
                    at: ctx.now(),
                    region: r as u16,
                    alive,
                });
            }
            self.region_ok[r] = alive;
        }
        ctx.schedule_in(rc.health_check, Event::HealthCheck);
    }

    /// Region `r` takes a new user: alive at the last health check, and no
    /// API tier of it saturated now (spillover, as a global load balancer
    /// with a capacity per region does).
    pub(super) fn region_takes_users(&self, r: u16) -> bool {
        let Some(rc) = &self.cfg.regions else {
            return true;
        };
        self.region_ok[r as usize]
            && rc.entry_tiers[r as usize]
                .iter()
                .all(|t| !self.tiers.api[t.index()].saturated(rc.failover_backlog))
    }

    /// `bytes` leave one region for another at `now`: counted, and billed
    /// at the cross-region price. Out of line: it is never called with one
    /// region, and its callers are hot.
    #[inline(never)]
    pub(super) fn cross_region(&mut self, now: SimTime, bytes: f64) {
        let meter = &mut self.traffic[TRAFFIC_CROSS_REGION];
        if meter.measures(now) {
            self.cross_region_bytes += bytes;
        }
        let price = self.cfg.traffic.cross_region_per_gb;
        if price > 0.0 {
            meter.charge(now, bytes_to_gb(bytes) * price);
        }
    }
}
