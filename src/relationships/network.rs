//! `GET /stakeholders/{id}/network`: a breadth-first walk over active edges,
//! both directions, one indexed lookup per hop (never a load of the edge
//! table), each stakeholder once at its shortest distance.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use uuid::Uuid;

use super::dto::{Network, NetworkNode, StakeholderRef};
use super::repo;
use crate::auth::RowScope;
use crate::db::{DbConnection, DbUuid};
use crate::error::ApiError;

/// The most stakeholders listed (nearest first); beyond, `truncated`.
pub const MAX_NODES: usize = 1000;
/// The most edges read in one hop: a bound on memory for a hub with many
/// edges. A hop that reaches it ends the walk there, `truncated`.
const MAX_EDGES_PER_HOP: i64 = 50_000;

/// Walks from `root` (already checked visible) up to `depth` hops.
pub fn walk(
    conn: &mut DbConnection,
    scope: RowScope,
    root: Uuid,
    depth: u8,
    today: NaiveDate,
) -> Result<Network, ApiError> {
    let root_id = DbUuid(root);
    let mut paths: HashMap<DbUuid, Vec<Uuid>> = HashMap::from([(root_id, Vec::new())]);
    // (stakeholder, distance), in the order reached.
    let mut reached: Vec<(DbUuid, u8)> = Vec::new();
    let mut frontier = vec![root_id];
    let mut truncated = false;
    'hops: for distance in 1..=depth {
        if frontier.is_empty() {
            break;
        }
        let edges = repo::edges_touching(conn, &frontier, scope, today, MAX_EDGES_PER_HOP)?;
        let hop_cut = edges.len() as i64 == MAX_EDGES_PER_HOP;
        let in_frontier: HashSet<DbUuid> = frontier.iter().copied().collect();
        let mut next = Vec::new();
        for (edge, from, to) in edges {
            let (parent, other) = if in_frontier.contains(&from) && !paths.contains_key(&to) {
                (from, to)
            } else if in_frontier.contains(&to) && !paths.contains_key(&from) {
                (to, from)
            } else {
                continue;
            };
            if reached.len() == MAX_NODES {
                truncated = true;
                break 'hops;
            }
            let mut path = paths[&parent].clone();
            path.push(edge.0);
            paths.insert(other, path);
            reached.push((other, distance));
            next.push(other);
        }
        if hop_cut {
            // Nodes of this distance may be missing: going deeper could list
            // one of them further away than it is.
            truncated = true;
            break;
        }
        frontier = next;
    }
    let ids: Vec<DbUuid> = reached.iter().map(|(id, _)| *id).collect();
    let refs: HashMap<DbUuid, StakeholderRef> =
        repo::refs_of(conn, &ids)?.into_iter().map(|r| (DbUuid(r.id), r)).collect();
    let nodes = reached
        .into_iter()
        .filter_map(|(id, distance)| {
            let stakeholder = refs.get(&id)?.clone();
            Some(NetworkNode { stakeholder, distance, path: paths.remove(&id).unwrap_or_default() })
        })
        .collect();
    Ok(Network { root, depth, nodes, truncated })
}
