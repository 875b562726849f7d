//! Model stage, solving: the one module that names good_lp's backends. Hands the LP to the chosen
//! solver and returns plain column values.

use std::time::Instant;

use good_lp::solvers::{DualValues, SolutionWithDual};
use good_lp::{
    constraint::ConstraintReference, Expression, ProblemVariables, ResolutionError, Solution,
    SolverModel, Variable, VariableDefinition,
};

use super::{Column, Model, Row, Sense};
use crate::error::{Error, Result};

/// The LP solvers compiled into this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolverKind {
    /// HiGHS (dual simplex / IPM, C++): the fast solver for large models; `highs` cargo feature.
    Highs,
    /// Clarabel (interior point, pure Rust): the default without HiGHS.
    Clarabel,
    /// microlp (simplex, pure Rust): exact vertices, slow beyond a few thousand variables.
    Microlp,
}

impl SolverKind {
    pub fn name(self) -> &'static str {
        match self {
            SolverKind::Highs => "highs",
            SolverKind::Clarabel => "clarabel",
            SolverKind::Microlp => "microlp",
        }
    }

    /// Every backend compiled in, the preferred first.
    pub fn available() -> Vec<SolverKind> {
        let mut v = Vec::new();
        if cfg!(feature = "highs") {
            v.push(SolverKind::Highs);
        }
        v.push(SolverKind::Clarabel);
        v.push(SolverKind::Microlp);
        v
    }

    pub fn default_kind() -> SolverKind {
        SolverKind::available()[0]
    }

    /// Parses a `--solver` name, saying which are compiled in when it is not.
    pub fn parse(name: &str) -> Result<SolverKind> {
        let all = [SolverKind::Highs, SolverKind::Clarabel, SolverKind::Microlp];
        let names: Vec<&str> = SolverKind::available().iter().map(|k| k.name()).collect();
        match all.iter().find(|k| k.name() == name) {
            Some(k) if SolverKind::available().contains(k) => Ok(*k),
            Some(_) => Err(Error::Usage(format!(
                "solver '{name}' is not compiled into this build (build with `--features {name}`); available: {}",
                names.join(", ")
            ))),
            None => Err(Error::Usage(format!("unknown solver '{name}'; available: {}", names.join(", ")))),
        }
    }
}

/// How the planning LP is solved: the whole LP at once by a backend, or by decomposition over
/// the reservations (`decompose`), or whichever `auto` picks for the scenario's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    #[default]
    Auto,
    Monolithic,
    Decomposed,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Monolithic => "monolithic",
            Method::Decomposed => "decomposed",
        }
    }

    /// Parses a `--method` name.
    pub fn parse(name: &str) -> Result<Method> {
        [Method::Auto, Method::Monolithic, Method::Decomposed]
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "unknown method '{name}'; expected auto, monolithic or decomposed"
                ))
            })
    }

    /// The method a plan is solved by: `auto` is the decomposition, exact at every size (the
    /// monolithic LP's interior point can return a wrong plan on skewed magnitudes, and at 3
    /// periods the decomposition takes microseconds too; see docs/solving.md). With deferral the
    /// decomposition's subproblem is the whole horizon's network, which cannot carry a share cap
    /// (its base counts which arrivals go unserved): `capped_deferral` (tokens may wait and a
    /// share cap applies) makes `auto` the monolithic LP, and asking for the decomposition a
    /// usage error saying why.
    pub fn resolve(self, capped_deferral: bool) -> Result<Method> {
        match (self, capped_deferral) {
            (Method::Auto, false) => Ok(Method::Decomposed),
            (Method::Auto, true) => Ok(Method::Monolithic),
            (Method::Decomposed, true) => Err(Error::Usage(
                "--method decomposed cannot solve this scenario: a workload's max_delay lets tokens wait into later periods and policy.max_provider_share caps providers, and the decomposition's networks cannot carry a share cap whose base depends on which arrivals go unserved; use --method monolithic (or auto, which picks it)".into(),
            )),
            (m, _) => Ok(m),
        }
    }
}

/// The backend and the method of a solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Solve {
    /// The LP backend of a monolithic solve (the decomposition's subproblems are networks and
    /// its master is a small simplex, whatever the backend).
    pub solver: SolverKind,
    pub method: Method,
    /// Solve the LP relaxation: reservations in GPUs need not be whole blocks (`--relax`).
    pub relax: bool,
}

impl From<SolverKind> for Solve {
    fn from(solver: SolverKind) -> Solve {
        Solve {
            relax: false,
            solver,
            method: Method::Auto,
        }
    }
}

/// A solved LP: column values in model units, the optimum in objective units and, where the
/// backend offers them (Clarabel, HiGHS; not microlp), the row duals.
#[derive(Debug, Clone)]
pub struct Solved {
    pub values: Vec<f64>,
    pub objective_units: f64,
    /// d(objective)/d(right-hand side) per row, in objective units per row unit (≤ 0 on a
    /// binding capacity row: more capacity never costs more). None where the backend has none.
    pub duals: Option<Vec<f64>>,
    pub solver: SolverKind,
    pub seconds: f64,
}

impl SolverKind {
    /// Whether this backend returns row duals (good_lp's `SolutionWithDual`).
    pub fn has_duals(self) -> bool {
        matches!(self, SolverKind::Highs | SolverKind::Clarabel)
    }
}

/// Solves the model with the given backend.
pub fn solve(model: &Model, kind: SolverKind) -> Result<Solved> {
    let started = Instant::now();
    if model.rows.is_empty() {
        // Nothing to serve (no demand): every cost is non-negative, so each column sits at its
        // lower bound. Handled here because some backends fail on an LP without constraints.
        let values = model.columns.iter().map(|c| c.lower).collect();
        let duals = kind.has_duals().then(Vec::new);
        return Ok(solved(model, values, duals, kind, started));
    }
    let (values, duals) = solve_lp(&model.columns, &model.rows, kind)?;
    Ok(solved(model, values, duals, kind, started))
}

/// Solves the LP given by columns and rows with the given backend: column values and, where the
/// backend has them, row duals. Shared by the planning LP and the decomposition's master.
pub fn solve_lp(columns: &[Column], rows: &[Row], kind: SolverKind) -> Result<ValuesAndDuals> {
    if kind == SolverKind::Clarabel && columns.iter().any(|c| c.integer) {
        return Err(Error::Solver(
            "clarabel solves linear programs only, and whole blocks make this one mixed-integer"
                .into(),
        ));
    }
    let mut vars = ProblemVariables::new();
    let cols: Vec<Variable> = columns
        .iter()
        .map(|c| {
            let mut def: VariableDefinition = good_lp::variable().min(c.lower);
            if let Some(u) = c.upper {
                def = def.max(u);
            }
            if c.integer {
                def = def.integer();
            }
            vars.add(def)
        })
        .collect();
    let objective: Expression = columns
        .iter()
        .zip(&cols)
        .filter(|(c, _)| c.cost != 0.0)
        .map(|(c, v)| c.cost * *v)
        .sum();
    let constraints = rows.iter().map(|row| {
        let lhs: Expression = row.terms.iter().map(|(col, a)| *a * cols[col.0]).sum();
        match row.sense {
            Sense::Eq => lhs.eq(row.rhs),
            Sense::Le => lhs.leq(row.rhs),
        }
    });
    let unsolved = vars.minimise(objective);
    let (values, duals) = match kind {
        SolverKind::Clarabel => {
            let mut p = good_lp::solvers::clarabel::clarabel(unsolved);
            // Tighter than Clarabel's 1e-8 defaults so backends agree to well under 1e-6.
            p.settings()
                .tol_gap_rel(1e-10)
                .tol_gap_abs(1e-10)
                .tol_feas(1e-10)
                .max_iter(500)
                .verbose(false);
            let refs: Vec<ConstraintReference> = constraints.map(|c| p.add_constraint(c)).collect();
            let mut sol = p.solve().map_err(solver_error)?;
            // good_lp accepts AlmostSolved and DualInfeasible as solutions; neither is one (a
            // DualInfeasible "solution" of a bounded LP is whatever the first iterate was).
            let inner = sol.inner();
            let gap = (inner.obj_val - inner.obj_val_dual).abs()
                / inner.obj_val.abs().max(inner.obj_val_dual.abs()).max(1.0);
            // (A NaN gap is no optimum either.)
            let gap_ok = gap <= 1e-7;
            if format!("{:?}", inner.status) != "Solved" || !gap_ok {
                return Err(Error::Solver(format!(
                    "clarabel stopped at status {:?} (primal {:e}, dual {:e}): not an optimum",
                    inner.status, inner.obj_val, inner.obj_val_dual
                )));
            }
            let values = cols.iter().map(|v| sol.value(*v)).collect();
            let dual = sol.compute_dual();
            (
                values,
                Some(refs.into_iter().map(|r| dual.dual(r)).collect()),
            )
        }
        SolverKind::Microlp => {
            let p = good_lp::solvers::microlp::microlp(unsolved).with_all(constraints);
            let sol = p.solve().map_err(solver_error)?;
            (cols.iter().map(|v| sol.value(*v)).collect(), None)
        }
        SolverKind::Highs => solve_highs(
            unsolved,
            constraints,
            &cols,
            columns.iter().any(|c| c.integer),
        )?,
    };
    Ok((values, duals))
}

/// A linear program kept solved by microlp, good_lp's simplex, called directly: rows can be
/// added and the optimum found again from the last basis (a dual simplex, a few pivots where a
/// solve from nothing takes hundreds), and a copy can be taken to try rows on. The whole-block
/// search (`branch`) keeps one per node and tries its splits on copies; solving the same LPs from
/// nothing took 4–8× longer (docs/performance.md, "Whole GPU blocks").
#[derive(Clone)]
pub struct WarmLp {
    solution: microlp::Solution,
    vars: Vec<microlp::Variable>,
}

impl WarmLp {
    /// Solves the LP of `columns` (none integer) and `rows`; None when it is infeasible.
    pub fn solve(columns: &[Column], rows: &[Row]) -> Result<Option<WarmLp>> {
        let mut problem = microlp::Problem::new(microlp::OptimizationDirection::Minimize);
        let vars: Vec<microlp::Variable> = columns
            .iter()
            .map(|c| {
                debug_assert!(!c.integer, "a WarmLp is a linear program");
                problem.add_var(c.cost, (c.lower, c.upper.unwrap_or(f64::INFINITY)))
            })
            .collect();
        for row in rows {
            let (expr, op) = Self::row(&vars, row);
            problem.add_constraint(expr, op, row.rhs);
        }
        Self::outcome(problem.solve(), vars)
    }

    /// The column values at the optimum.
    pub fn values(&self) -> Vec<f64> {
        self.vars.iter().map(|v| self.solution[*v]).collect()
    }

    /// This LP with `rows` added, solved again from its basis; None when it becomes infeasible.
    pub fn with_rows(self, rows: &[Row]) -> Result<Option<WarmLp>> {
        let WarmLp { mut solution, vars } = self;
        for row in rows {
            let (expr, op) = Self::row(&vars, row);
            match solution.add_constraint(expr, op, row.rhs) {
                Ok(microlp::SolveOutcome::Solution(s)) => solution = s,
                Ok(microlp::SolveOutcome::Interrupted(_)) => {
                    return Err(Error::Solver("microlp stopped without a time limit".into()))
                }
                Err(microlp::Error::Infeasible) => return Ok(None),
                Err(e) => return Err(Error::Solver(format!("microlp: {e}"))),
            }
        }
        Ok(Some(WarmLp { solution, vars }))
    }

    fn row(vars: &[microlp::Variable], row: &Row) -> (microlp::LinearExpr, microlp::ComparisonOp) {
        let mut expr = microlp::LinearExpr::empty();
        for (col, a) in &row.terms {
            expr.add(vars[col.0], *a);
        }
        let op = match row.sense {
            Sense::Eq => microlp::ComparisonOp::Eq,
            Sense::Le => microlp::ComparisonOp::Le,
        };
        (expr, op)
    }

    fn outcome(
        outcome: std::result::Result<microlp::SolveOutcome, microlp::Error>,
        vars: Vec<microlp::Variable>,
    ) -> Result<Option<WarmLp>> {
        match outcome {
            Ok(microlp::SolveOutcome::Solution(solution)) => Ok(Some(WarmLp { solution, vars })),
            Ok(microlp::SolveOutcome::Interrupted(_)) => {
                Err(Error::Solver("microlp stopped without a time limit".into()))
            }
            Err(microlp::Error::Infeasible) => Ok(None),
            Err(microlp::Error::Unbounded) => Err(solver_error(ResolutionError::Unbounded)),
            Err(e) => Err(Error::Solver(format!("microlp: {e}"))),
        }
    }
}

/// A mixed-integer program given to microlp's branch and bound with a budget of nodes: its
/// proven optimum's column values, or None when the budget ran out first.
pub fn solve_mip_within(columns: &[Column], rows: &[Row], nodes: u64) -> Result<Option<Vec<f64>>> {
    let mut problem = microlp::Problem::new(microlp::OptimizationDirection::Minimize);
    let vars: Vec<microlp::Variable> = columns
        .iter()
        .map(|c| {
            let upper = c.upper.unwrap_or(f64::INFINITY);
            if c.integer {
                let whole = |x: f64| x.clamp(i32::MIN as f64, i32::MAX as f64) as i32;
                problem.add_integer_var(c.cost, (whole(c.lower.ceil()), whole(upper.floor())))
            } else {
                problem.add_var(c.cost, (c.lower, upper))
            }
        })
        .collect();
    for row in rows {
        let (expr, op) = WarmLp::row(&vars, row);
        problem.add_constraint(expr, op, row.rhs);
    }
    let mut options = microlp::SolveOptions::default();
    options.node_limit = Some(nodes);
    match problem.solve_with(options) {
        Ok(microlp::SolveOutcome::Solution(solution))
            if solution.status() == microlp::SolutionStatus::Optimal =>
        {
            Ok(Some(vars.iter().map(|v| solution.var_value(*v)).collect()))
        }
        Ok(_) => Ok(None),
        Err(microlp::Error::Infeasible) => Err(solver_error(ResolutionError::Infeasible)),
        Err(microlp::Error::Unbounded) => Err(solver_error(ResolutionError::Unbounded)),
        Err(e) => Err(Error::Solver(format!("microlp: {e}"))),
    }
}

/// Column values with the objective they reach.
fn solved(
    model: &Model,
    values: Vec<f64>,
    duals: Option<Vec<f64>>,
    solver: SolverKind,
    started: Instant,
) -> Solved {
    let objective_units = model
        .columns
        .iter()
        .zip(&values)
        .map(|(c, v)| c.cost * v)
        .sum();
    Solved {
        values,
        objective_units,
        duals,
        solver,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Column values, and row duals where the backend has them.
pub type ValuesAndDuals = (Vec<f64>, Option<Vec<f64>>);

#[cfg(feature = "highs")]
fn solve_highs(
    unsolved: good_lp::variable::UnsolvedProblem,
    constraints: impl Iterator<Item = good_lp::Constraint>,
    cols: &[Variable],
    mixed_integer: bool,
) -> Result<ValuesAndDuals> {
    let mut p = good_lp::solvers::highs::highs(unsolved);
    p.set_verbose(false);
    let mut p = p.set_threads(1);
    if mixed_integer {
        // HiGHS stops a mixed-integer search at a 1e-4 gap by default; the spec's plans are
        // within 1e-9 of the best bound (what a plan with deferral reports, polished by nothing).
        p = p
            .set_mip_rel_gap(1e-9)
            .map_err(|e| Error::Solver(format!("highs refused the gap: {e:?}")))?;
    }
    let refs: Vec<ConstraintReference> = constraints.map(|c| p.add_constraint(c)).collect();
    let mut sol = p.solve().map_err(solver_error)?;
    let values = cols.iter().map(|v| sol.value(*v)).collect();
    let dual = sol.compute_dual();
    Ok((
        values,
        Some(refs.into_iter().map(|r| dual.dual(r)).collect()),
    ))
}

#[cfg(not(feature = "highs"))]
fn solve_highs(
    _unsolved: good_lp::variable::UnsolvedProblem,
    _constraints: impl Iterator<Item = good_lp::Constraint>,
    _cols: &[Variable],
    _mixed_integer: bool,
) -> Result<ValuesAndDuals> {
    Err(Error::Usage(
        "solver 'highs' is not compiled into this build (build with `--features highs`)".into(),
    ))
}

fn solver_error(e: ResolutionError) -> Error {
    let why = match e {
        // The penalties make every scenario feasible and bounded; reaching these is a bug or a
        // numerical failure, and the message says so rather than blaming the input.
        ResolutionError::Infeasible => {
            "the LP is infeasible (unexpected: shortfall variables keep it feasible)".into()
        }
        ResolutionError::Unbounded => {
            "the LP is unbounded (unexpected: every cost is non-negative)".into()
        }
        other => other.to_string(),
    };
    Error::Solver(why)
}
