//! Regions: routing reads each region's health (at health checks) and
//! saturation (per request).

use sim_engine::Context;

use super::{Event, Platform};
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
}
