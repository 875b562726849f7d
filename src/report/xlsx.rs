//! Report stage, workbooks: a run's plan as an xlsx workbook (`run --xlsx` → `plan.xlsx`) with
//! numbers as numbers and units in the headers, for planners who live in spreadsheets. The
//! document's creation time is fixed so the same plan gives the same bytes.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::build::Report;
use crate::error::{Error, Result};

/// Workbook properties with a fixed creation time (a workbook is otherwise stamped with now).
pub fn fixed_properties(wb: &mut Workbook) -> std::result::Result<(), XlsxError> {
    let created = ExcelDateTime::from_ymd(2026, 1, 1)?;
    wb.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&created)
            .set_author("capplan"),
    );
    Ok(())
}

/// The one error of a workbook that could not be assembled.
pub fn xlsx_error(file: &str) -> impl Fn(XlsxError) -> Error + '_ {
    move |e| Error::Chart(format!("writing {file}: {e}"))
}

/// A header row in bold.
pub fn header(sheet: &mut Worksheet, names: &[&str]) -> std::result::Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    for (i, n) in names.iter().enumerate() {
        sheet.write_with_format(0, i as u16, *n, &bold)?;
    }
    Ok(())
}

/// `plan.xlsx`: sheets `summary` (one row per figure), `providers` and `commitments`.
pub fn plan_xlsx(report: &Report) -> Result<Vec<u8>> {
    let err = xlsx_error("plan.xlsx");
    let s = &report.summary;
    let mut wb = Workbook::new();
    fixed_properties(&mut wb).map_err(&err)?;

    let sheet = wb.add_worksheet().set_name("summary").map_err(&err)?;
    header(sheet, &["figure", "value", "unit"]).map_err(&err)?;
    let figures: [(&str, f64, &str); 14] = [
        ("objective", s.objective, "$"),
        ("cost", s.cost, "$"),
        ("commit_cost", s.commit_cost, "$"),
        ("usage_cost", s.usage_cost, "$"),
        ("route_cost", s.route_cost, "$"),
        ("unserved_penalty_cost", s.unserved_penalty_cost, "$"),
        ("resilience_penalty_cost", s.resilience_penalty_cost, "$"),
        (
            "cost_per_million_tokens",
            s.cost_per_million_tokens,
            "$/M tokens",
        ),
        ("demand_tokens", s.demand_tokens, "tokens"),
        ("served_tokens", s.served_tokens, "tokens"),
        ("unserved_tokens", s.unserved_tokens, "tokens"),
        ("served_pct", s.served_fraction * 100.0, "%"),
        (
            "resilience_shortfall_tokens",
            s.resilience_shortfall_tokens,
            "tokens",
        ),
        ("periods", s.periods as f64, "periods"),
    ];
    sheet.write(1, 0, "scenario").map_err(&err)?;
    sheet.write(1, 1, s.scenario.as_str()).map_err(&err)?;
    for (i, (name, value, unit)) in figures.iter().enumerate() {
        let row = 2 + i as u32;
        sheet.write(row, 0, *name).map_err(&err)?;
        sheet.write_number(row, 1, *value).map_err(&err)?;
        sheet.write(row, 2, *unit).map_err(&err)?;
    }

    let sheet = wb.add_worksheet().set_name("providers").map_err(&err)?;
    header(
        sheet,
        &[
            "provider",
            "reserved_tpm_peak (tokens/min)",
            "served_tokens (tokens)",
            "cost ($)",
            "commit_cost ($)",
            "usage_cost ($)",
            "route_cost ($)",
            "peak_share (%)",
        ],
    )
    .map_err(&err)?;
    for (i, p) in s.providers.iter().enumerate() {
        let row = 1 + i as u32;
        sheet.write(row, 0, p.provider.as_str()).map_err(&err)?;
        let values = [
            p.reserved_tpm_peak,
            p.served_tokens,
            p.cost,
            p.commit_cost,
            p.usage_cost,
            p.route_cost,
            p.peak_share * 100.0,
        ];
        for (j, v) in values.iter().enumerate() {
            sheet.write_number(row, 1 + j as u16, *v).map_err(&err)?;
        }
    }

    let sheet = wb.add_worksheet().set_name("commitments").map_err(&err)?;
    header(
        sheet,
        &[
            "tranche",
            "provider",
            "region",
            "start",
            "end",
            "capacity_tpm (tokens/min)",
            "reserved_fraction",
            "reserved_tpm (tokens/min)",
            "commit_cost ($)",
        ],
    )
    .map_err(&err)?;
    for (i, c) in report.commitments.iter().enumerate() {
        let row = 1 + i as u32;
        for (j, text) in [&c.tranche, &c.provider, &c.region, &c.start, &c.end]
            .iter()
            .enumerate()
        {
            sheet.write(row, j as u16, text.as_str()).map_err(&err)?;
        }
        for (j, v) in [
            c.capacity_tpm,
            c.reserved_fraction,
            c.reserved_tpm,
            c.commit_cost,
        ]
        .iter()
        .enumerate()
        {
            sheet.write_number(row, 5 + j as u16, *v).map_err(&err)?;
        }
    }
    wb.save_to_buffer().map_err(&err)
}
