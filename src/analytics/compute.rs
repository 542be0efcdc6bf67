//! The measures of each endpoint, from the rows `repo` read: every row is
//! added to the totals and to its group in one pass (`Groups`), so totals
//! are over the whole population and groups are sparse by construction.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::dto::*;
use super::measures::{DurationPercentiles, Mean, MoneySums, Ratio, Samples, seconds_between};
use super::repo::{Attrs, CUSTOMER_STAGES, ChangeFact, ComplaintFact, InteractionFact, OfferFact, Purchase};
use super::window::{Bucket, Dim, GroupBy, Groups, Key, MAX_GROUPS, Window};
use crate::interactions::dto::InteractionType;
use crate::offers::dto::OfferStatus;
use crate::offers::lifecycle::effective_status;
use crate::stakeholders::dto::LifecycleStage;

fn attr(a: &Attrs, d: Dim) -> Option<String> {
    match d {
        Dim::Kind => Some(a.kind.clone()),
        Dim::EntityType => Some(a.entity_type.clone()),
        Dim::Segment => a.segment.clone(),
        Dim::LifecycleStage => Some(a.lifecycle_stage.clone()),
        _ => None,
    }
}

fn count(n: usize) -> i64 {
    n as i64
}

/// The response's groups, in key order.
pub fn groups<M, G, O>(
    g: Groups<M>,
    by: &GroupBy,
    make: impl Fn(serde_json::Map<String, serde_json::Value>, O) -> G,
    done: impl Fn(M) -> O,
) -> (O, Vec<G>) {
    let totals = done(g.totals);
    let groups = g.groups.into_iter().map(|(k, m)| make(k.to_json(by), done(m))).collect();
    (totals, groups)
}

// --- portfolio -------------------------------------------------------------

#[derive(Default)]
pub struct PortfolioAcc {
    stakeholders: i64,
    erased: i64,
    purchasing: HashSet<Uuid>,
    revenue: MoneySums,
}

/// `counts`: stakeholders per attribute set (the population); `purchases`
/// in the window, each under its stakeholder's attributes in `attrs` (a
/// purchase of a stakeholder outside the population is left out).
pub fn portfolio(
    by: &GroupBy,
    counts: &[(Attrs, i64, i64)],
    purchases: &[Purchase],
    attrs: &HashMap<Uuid, (Attrs, bool)>,
    include_archived: bool,
) -> Groups<PortfolioAcc> {
    let mut g = Groups::<PortfolioAcc>::default();
    // No time dimension is offered here: the key's instant is never read.
    let at = DateTime::<Utc>::UNIX_EPOCH;
    for (a, n, erased) in counts {
        g.add(by.key(at, |d| attr(a, d)), |m| {
            m.stakeholders += n;
            m.erased += erased;
        });
    }
    for p in purchases {
        let Some((a, archived)) = attrs.get(&p.stakeholder_id.0) else { continue };
        if *archived && !include_archived {
            continue;
        }
        g.add(by.key(at, |d| attr(a, d)), |m| {
            m.purchasing.insert(p.stakeholder_id.0);
            if let (Some(amount), Some(cur)) = (p.amount_minor, &p.currency) {
                m.revenue.add(cur, amount);
            }
        });
    }
    g
}

pub fn portfolio_done(m: PortfolioAcc) -> PortfolioMeasures {
    PortfolioMeasures {
        stakeholders: m.stakeholders,
        erased: m.erased,
        purchasing_stakeholders: count(m.purchasing.len()),
        revenue: m.revenue.done(),
    }
}

// --- interactions ----------------------------------------------------------

#[derive(Default)]
pub struct InteractionAcc {
    interactions: i64,
    stakeholders: HashSet<Uuid>,
    satisfaction: Mean,
    purchases: i64,
    revenue: MoneySums,
}

/// Adds one interaction to the totals and its group.
pub fn add_interaction(g: &mut Groups<InteractionAcc>, by: &GroupBy, r: InteractionFact) {
    let key = by.key(r.occurred_at.0, |d| match d {
        Dim::Channel => Some(r.channel.as_str().to_owned()),
        Dim::Direction => Some(r.direction.as_str().to_owned()),
        Dim::Type => Some(r.interaction_type.as_str().to_owned()),
        _ => None,
    });
    let purchase = r.interaction_type == InteractionType::Purchase;
    g.add(key, |m| {
        m.interactions += 1;
        m.stakeholders.insert(r.stakeholder_id.0);
        if let Some(s) = r.satisfaction {
            m.satisfaction.add(i64::from(s));
        }
        if purchase {
            m.purchases += 1;
            if let (Some(amount), Some(cur)) = (r.amount_minor, &r.currency) {
                m.revenue.add(cur, amount);
            }
        }
    });
}

pub fn interactions_done(m: InteractionAcc) -> InteractionMeasures {
    InteractionMeasures {
        interactions: m.interactions,
        stakeholders: count(m.stakeholders.len()),
        satisfaction: m.satisfaction.done(),
        purchases: m.purchases,
        revenue: m.revenue.done(),
    }
}

// --- offers ----------------------------------------------------------------

#[derive(Default)]
pub struct OfferAcc {
    by_status: HashMap<&'static str, u64>,
    sent: u64,
    response: Samples,
    /// currency → (list, net, count)
    accepted_value: BTreeMap<String, (i128, i128, i64)>,
}

/// Adds one offer (its status as of `as_of`) to the totals and its group.
pub fn add_offer(g: &mut Groups<OfferAcc>, by: &GroupBy, r: OfferFact, as_of: DateTime<Utc>) {
    let key = by.key(r.sent_at.0, |d| match d {
        Dim::ProductCategory => r.product_category.clone(),
        _ => None,
    });
    let status = effective_status(r.status, r.valid_until.map(|t| t.0), as_of);
    let bucket = match status {
        OfferStatus::Sent => "open",
        s => s.as_str(),
    };
    let decided = matches!(status, OfferStatus::Accepted | OfferStatus::Declined);
    let response = r.responded_at.filter(|_| decided).map(|t| seconds_between(r.sent_at.0, t.0));
    let net = i128::from(r.price_minor) * i128::from(100 - r.discount_percent) / 100;
    g.add(key, |m| {
        m.sent += 1;
        *m.by_status.entry(bucket).or_default() += 1;
        if let Some(s) = response {
            m.response.add(s);
        }
        if status == OfferStatus::Accepted {
            let e = m.accepted_value.entry(r.currency.clone()).or_default();
            e.0 += i128::from(r.price_minor);
            e.1 += net;
            e.2 += 1;
        }
    });
}

pub fn offers_done(mut m: OfferAcc) -> OfferMeasures {
    let n = |s: &str| m.by_status.get(s).copied().unwrap_or(0);
    let (accepted, declined) = (n("accepted"), n("declined"));
    OfferMeasures {
        sent: m.sent as i64,
        accepted: accepted as i64,
        declined: declined as i64,
        expired: n("expired") as i64,
        withdrawn: n("withdrawn") as i64,
        open: n("open") as i64,
        conversion_rate: Ratio::of(accepted, m.sent),
        decided_acceptance_rate: Ratio::of(accepted, accepted + declined),
        response_seconds: DurationPercentiles::from(&mut m.response),
        accepted_value: m
            .accepted_value
            .iter()
            .map(|(c, (list, net, n))| AcceptedValue {
                currency: c.clone(),
                list_amount_minor: i64::try_from(*list).unwrap_or(i64::MAX),
                net_amount_minor: i64::try_from(*net).unwrap_or(i64::MAX),
                count: *n,
            })
            .collect(),
    }
}

// --- complaints ------------------------------------------------------------

#[derive(Default)]
pub struct ComplaintAcc {
    opened: i64,
    resolved: u64,
    within_sla: u64,
    open_breached: i64,
    resolution: Samples,
    acknowledge: Samples,
    satisfaction: Mean,
    positive: u64,
    distribution: [i64; 5],
}

/// Adds one complaint to each measure whose timestamp lies in the window,
/// under the group of that timestamp.
pub fn add_complaint(g: &mut Groups<ComplaintAcc>, by: &GroupBy, w: &Window, r: ComplaintFact) {
    let key = |at: DateTime<Utc>| {
        by.key(at, |d| match d {
            Dim::Category => Some(r.category.as_str().to_owned()),
            Dim::Severity => Some(r.severity.as_str().to_owned()),
            Dim::Channel => r.channel.map(|c| c.as_str().to_owned()),
            Dim::AssigneeId => r.assignee_id.clone(),
            _ => None,
        })
    };
    let created = r.created_at.0;
    if w.contains(created) {
        let breached = r.resolved_at.is_none() && r.due_at.0 < w.as_of;
        g.add(key(created), |m| {
            m.opened += 1;
            m.open_breached += i64::from(breached);
        });
    }
    if let Some(resolved) = r.resolved_at.map(|t| t.0).filter(|t| w.contains(*t)) {
        let within = resolved <= r.due_at.0;
        let secs = seconds_between(created, resolved);
        g.add(key(resolved), |m| {
            m.resolved += 1;
            m.within_sla += u64::from(within);
            m.resolution.add(secs);
        });
    }
    if let Some(ack) = r.acknowledged_at.map(|t| t.0).filter(|t| w.contains(*t)) {
        let secs = seconds_between(created, ack);
        g.add(key(ack), |m| m.acknowledge.add(secs));
    }
    if let (Some(closed), Some(score)) = (r.closed_at.map(|t| t.0).filter(|t| w.contains(*t)), r.satisfaction) {
        g.add(key(closed), |m| {
            m.satisfaction.add(i64::from(score));
            m.positive += u64::from(score >= 4);
            if let Some(slot) = usize::try_from(score - 1).ok().and_then(|i| m.distribution.get_mut(i)) {
                *slot += 1;
            }
        });
    }
}

pub fn complaints_done(mut m: ComplaintAcc) -> ComplaintMeasures {
    let (count, p50, p90, sum) = m.resolution.summary();
    let resolution = ResolutionSeconds {
        count,
        p50,
        p90,
        sum: i64::try_from(sum).unwrap_or(i64::MAX),
        average: Mean { count: count as u64, sum }.done().average,
    };
    let sat = m.satisfaction.done();
    let d = m.distribution;
    ComplaintMeasures {
        opened: m.opened,
        sla: Sla {
            resolved: m.resolved as i64,
            within_sla: m.within_sla as i64,
            breached: (m.resolved - m.within_sla) as i64,
            compliance_rate: Ratio::of(m.within_sla, m.resolved),
        },
        open_breached: m.open_breached,
        resolution_seconds: resolution,
        acknowledge_seconds: DurationPercentiles::from(&mut m.acknowledge),
        satisfaction: ComplaintSatisfaction {
            count: sat.count,
            sum: sat.sum,
            average: sat.average,
            positive: m.positive as i64,
            positive_rate: Ratio::of(m.positive, sat.count as u64),
            distribution: Distribution { one: d[0], two: d[1], three: d[2], four: d[3], five: d[4] },
        },
    }
}

// --- lifecycle -------------------------------------------------------------

fn rank(s: LifecycleStage) -> Option<u8> {
    match s {
        LifecycleStage::Prospect => Some(0),
        LifecycleStage::Lead => Some(1),
        LifecycleStage::Customer => Some(2),
        LifecycleStage::RepeatCustomer => Some(3),
        LifecycleStage::Advocate => Some(4),
        LifecycleStage::Churned => None,
    }
}

const RANKED: [LifecycleStage; 5] = [
    LifecycleStage::Prospect,
    LifecycleStage::Lead,
    LifecycleStage::Customer,
    LifecycleStage::RepeatCustomer,
    LifecycleStage::Advocate,
];

fn is_customer(s: LifecycleStage) -> bool {
    CUSTOMER_STAGES.contains(&s)
}

/// What the lifecycle measures are computed from.
pub struct LifecycleFacts {
    /// The window's changes, oldest first.
    pub changes: Vec<ChangeFact>,
    /// Stakeholders created in the window.
    pub acquired: Vec<(Uuid, DateTime<Utc>)>,
    /// Stakeholders already in a customer stage once before the window.
    pub customers_before: HashSet<Uuid>,
    /// Stakeholders whose stage at the window's start is a customer stage.
    pub customers_at_start: HashSet<Uuid>,
    pub attrs: HashMap<Uuid, Attrs>,
}

#[derive(Default)]
pub struct LifecycleAcc {
    acquired: i64,
    new_customers: i64,
    reactivated: i64,
    transitions: BTreeMap<(Option<&'static str>, &'static str), i64>,
    /// Per ranked stage, the cohort members that reached it.
    reached: [u64; 5],
    customers_at_start: u64,
    churned: u64,
    retained: u64,
}

/// The lifecycle measures over each interval: the whole window for the
/// totals, and each time bucket (or the window) for the groups.
pub fn lifecycle(by: &GroupBy, w: &Window, buckets: Option<&[Bucket]>, f: &LifecycleFacts) -> Groups<LifecycleAcc> {
    // The window's changes per stakeholder, oldest first.
    let mut history: HashMap<Uuid, Vec<&ChangeFact>> = HashMap::new();
    for c in &f.changes {
        history.entry(c.stakeholder_id.0).or_default().push(c);
    }
    let whole = [Bucket { label: String::new(), from: w.from, to: w.to }];
    let mut g = Groups::<LifecycleAcc>::default();
    let totals = Intervals::new(&whole, |_| Vec::new()).run(f, &history);
    g.totals = totals.into_iter().next().and_then(|m| m.into_values().next()).unwrap_or_default();
    if by.dims.is_empty() {
        return g;
    }
    let attribute_dims: Vec<Dim> = by.dims.iter().copied().filter(|d| !d.is_time()).collect();
    let attr_key = |id: Uuid| -> Vec<Option<String>> {
        let a = f.attrs.get(&id);
        attribute_dims.iter().map(|&d| a.and_then(|a| attr(a, d))).collect()
    };
    let intervals = buckets.unwrap_or(&whole);
    let per_bucket = Intervals::new(intervals, attr_key).run(f, &history);
    for (b, groups) in intervals.iter().zip(per_bucket) {
        for (attrs, m) in groups {
            let mut attrs = attrs.into_iter();
            let parts =
                by.dims.iter().map(|d| if d.is_time() { Some(b.label.clone()) } else { attrs.next().flatten() });
            g.groups.insert(Key(parts.collect()), m);
        }
    }
    g
}

/// The measures over consecutive intervals, per attribute key, in one pass
/// over each stakeholder's history: O(changes · log intervals), plus the
/// runs of intervals in which a customer stays one (difference arrays).
struct Intervals<'a, K> {
    buckets: &'a [Bucket],
    key: K,
    acc: Vec<HashMap<Vec<Option<String>>, LifecycleAcc>>,
    /// Per key, +1/−1 at the ends of runs of intervals where the stakeholder
    /// is a customer throughout (customers at start and retained).
    runs: HashMap<Vec<Option<String>>, Vec<i64>>,
    /// Entries made in `acc` (the groups of the answer), and where the
    /// additions go past [`MAX_GROUPS`] + 1 of them: the answer is a 400
    /// `too-many-groups` then, so memory stops growing there.
    made: usize,
    sink: LifecycleAcc,
}

impl<'a, K: Fn(Uuid) -> Vec<Option<String>>> Intervals<'a, K> {
    fn new(buckets: &'a [Bucket], key: K) -> Self {
        let acc = (0..buckets.len()).map(|_| HashMap::new()).collect();
        Self { buckets, key, acc, runs: HashMap::new(), made: 0, sink: LifecycleAcc::default() }
    }

    /// The interval holding `t` (which lies in the window).
    fn index(&self, t: DateTime<Utc>) -> usize {
        self.buckets.partition_point(|b| b.to <= t).min(self.buckets.len() - 1)
    }

    fn at(&mut self, i: usize, key: &[Option<String>]) -> &mut LifecycleAcc {
        if !self.acc[i].contains_key(key) {
            if self.made > MAX_GROUPS {
                return &mut self.sink;
            }
            self.made += 1;
        }
        self.acc[i].entry(key.to_vec()).or_default()
    }

    fn run_of(&mut self, key: &[Option<String>], from: usize, to: usize) {
        if from < to {
            let d = self.runs.entry(key.to_vec()).or_insert_with(|| vec![0; self.buckets.len() + 1]);
            d[from] += 1;
            d[to] -= 1;
        }
    }

    fn run(
        mut self,
        f: &LifecycleFacts,
        history: &HashMap<Uuid, Vec<&ChangeFact>>,
    ) -> Vec<HashMap<Vec<Option<String>>, LifecycleAcc>> {
        let n = self.buckets.len();
        for &(id, created) in &f.acquired {
            let key = (self.key)(id);
            let i = self.index(created);
            self.at(i, &key).acquired += 1;
            // The funnel of the interval's cohort: the highest rank reached before its end.
            let end = self.buckets[i].to;
            let top = history
                .get(&id)
                .and_then(|h| h.iter().filter(|c| c.changed_at.0 < end).filter_map(|c| rank(c.to_stage)).max());
            if let Some(top) = top {
                self.at(i, &key).reached.iter_mut().take(usize::from(top) + 1).for_each(|r| *r += 1);
            }
        }
        for (&id, changes) in history {
            let key = (self.key)(id);
            let mut first_customer = !f.customers_before.contains(&id);
            let mut reactivated_in: Vec<usize> = Vec::new();
            let mut customer = f.customers_at_start.contains(&id);
            let mut next = 0; // the first interval not yet counted for churn
            let mut k = 0;
            while k < changes.len() {
                let i = self.index(changes[k].changed_at.0);
                // Intervals before this one: no change, the status holds.
                if customer {
                    self.run_of(&key, next, i);
                }
                let at_start = customer;
                let mut churned = false;
                while k < changes.len() && self.index(changes[k].changed_at.0) == i {
                    let c = changes[k];
                    let into_customer = is_customer(c.to_stage);
                    let t = (c.from_stage.map(LifecycleStage::as_str), c.to_stage.as_str());
                    *self.at(i, &key).transitions.entry(t).or_default() += 1;
                    if into_customer && first_customer {
                        self.at(i, &key).new_customers += 1;
                    }
                    first_customer &= !into_customer;
                    if into_customer
                        && c.from_stage == Some(LifecycleStage::Churned)
                        && reactivated_in.last() != Some(&i)
                    {
                        reactivated_in.push(i);
                        self.at(i, &key).reactivated += 1;
                    }
                    churned |= c.to_stage == LifecycleStage::Churned;
                    customer = into_customer;
                    k += 1;
                }
                if at_start {
                    let m = self.at(i, &key);
                    m.customers_at_start += 1;
                    m.churned += u64::from(churned);
                    m.retained += u64::from(customer);
                }
                next = i + 1;
            }
            if customer {
                self.run_of(&key, next, n);
            }
        }
        // Customers at the start with no change in the window stay customers throughout.
        for &id in f.customers_at_start.iter().filter(|id| !history.contains_key(id)) {
            let key = (self.key)(id);
            self.run_of(&key, 0, n);
        }
        let runs = std::mem::take(&mut self.runs);
        for (key, diff) in runs {
            let mut level = 0;
            for (i, d) in diff.iter().take(n).enumerate() {
                level += d;
                if level > 0 {
                    let m = self.at(i, &key);
                    m.customers_at_start += level as u64;
                    m.retained += level as u64;
                }
            }
        }
        self.acc
    }
}

pub fn lifecycle_done(m: LifecycleAcc) -> LifecycleMeasures {
    let mut transitions: Vec<Transition> = m
        .transitions
        .into_iter()
        .map(|((from, to), count)| Transition { from_stage: from.map(str::to_owned), to_stage: to.to_owned(), count })
        .collect();
    // (from, to) as strings in byte order, null first: Option's order.
    transitions.sort();
    let funnel = RANKED
        .iter()
        .enumerate()
        .map(|(i, &stage)| FunnelStep {
            stage,
            reached: m.reached[i] as i64,
            conversion_from_previous: (i > 0).then(|| Ratio::of(m.reached[i], m.reached[i - 1])),
        })
        .collect();
    let n = m.customers_at_start;
    LifecycleMeasures {
        acquired: m.acquired,
        new_customers: m.new_customers,
        reactivated: m.reactivated,
        transitions,
        funnel,
        churn: Churn {
            customers_at_start: n as i64,
            churned: m.churned as i64,
            retained: m.retained as i64,
            churn_rate: Ratio::of(m.churned, n),
            retention_rate: Ratio::of(m.retained, n),
        },
    }
}
