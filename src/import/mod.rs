//! `crm-api import <resource> <FILE|->` (contracts/integration.md): a CSV
//! file into a resource through the batch API's own item functions, as an
//! admin named by `--actor`. The file is read twice, streaming: first to
//! check its shape (header, UTF-8, field counts), so a malformed file
//! writes nothing, then to write it in transactions of `--batch-size` rows.

pub mod columns;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, IsTerminal, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, mpsc};
use std::time::Duration;
use std::time::Instant;

use serde_json::Value;

use crate::config::Settings;
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::http::batch::{self, BatchOperation, Writer};
use crate::{complaints, interactions, offers, stakeholders};
use columns::Columns;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportResource {
    Stakeholders,
    Interactions,
    Offers,
    Complaints,
}

impl ImportResource {
    fn name(self) -> &'static str {
        match self {
            Self::Stakeholders => "stakeholders",
            Self::Interactions => "interactions",
            Self::Offers => "offers",
            Self::Complaints => "complaints",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportMode {
    Create,
    /// Stakeholders only, by e-mail (any case).
    Upsert,
}

/// The command line of `crm-api import`.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    #[arg(value_enum)]
    pub resource: ImportResource,
    /// The CSV file, or `-` for stdin.
    pub file: String,
    /// `upsert`: stakeholders only, by e-mail.
    #[arg(long, value_enum, default_value_t = ImportMode::Create)]
    pub mode: ImportMode,
    /// The whole file in one transaction: any failed row writes nothing.
    #[arg(long)]
    pub atomic: bool,
    /// Check everything, the database included, then roll back.
    #[arg(long)]
    pub dry_run: bool,
    /// Rows per transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub batch_size: u16,
    /// The first row to write (the header is row 1): `N+1` resumes after row N.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub start_row: u64,
    /// One ASCII character.
    #[arg(long, default_value = ",", value_parser = delimiter)]
    pub delimiter: u8,
    /// The error CSV (`row,field,code,message`); default `<FILE>.errors.csv`.
    #[arg(long)]
    pub errors: Option<PathBuf>,
    /// Who the writes are attributed to (role admin).
    #[arg(long, default_value = "cli:import")]
    pub actor: String,
}

/// A CSV delimiter: one ASCII character other than a quote or a line break.
fn delimiter(s: &str) -> Result<u8, String> {
    match s.as_bytes() {
        [b] if b.is_ascii() && !matches!(b, b'"' | b'\r' | b'\n') => Ok(*b),
        _ => Err(format!("{s:?} is not one ASCII character (other than a quote or a line break)")),
    }
}

/// The exit codes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    RowsFailed = 1,
    Usage = 2,
    AtomicFailed = 3,
    Database = 4,
}

/// The JSON line on stdout.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    pub resource: &'static str,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub atomic: bool,
    pub dry_run: bool,
    pub last_committed_row: Option<u64>,
}

/// Why an import stopped before the end.
#[derive(Debug)]
enum Stop {
    /// Usage, file, encoding or header: nothing was written.
    Input(String),
    /// The database is unreachable or failed.
    Database(String),
    /// An atomic or dry run ends by rolling back.
    Rollback,
    /// A chunk waited too long for its turn to commit: rolled back, to be redone.
    Turn,
    /// Another chunk's writer failed: this one rolls back.
    Aborted,
    /// The error file could not be written (rows may be committed).
    Output(String),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Self {
        Stop::Database(e.to_string())
    }
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Self {
        Stop::Database(e.problem().detail)
    }
}

/// Runs an import and returns its exit code; the summary line goes to
/// stdout and what went wrong to stderr.
pub fn run(opts: &Options, settings: &Settings) -> Exit {
    let mut summary =
        Summary { resource: opts.resource.name(), atomic: opts.atomic, dry_run: opts.dry_run, ..Default::default() };
    let outcome = import(opts, settings, &mut summary);
    let exit = match outcome {
        Err(Stop::Input(m)) => {
            eprintln!("error: {m}");
            return Exit::Usage;
        }
        Err(Stop::Database(m)) => {
            eprintln!("error: the database failed: {m}");
            Exit::Database
        }
        // Only a writer sees these; the run reports the failure that caused them.
        Err(Stop::Turn | Stop::Aborted) => Exit::Database,
        Err(Stop::Output(m)) => {
            eprintln!("error: {m}");
            // Rows may be committed already: say which, and never "nothing written".
            if summary.last_committed_row.is_some() { Exit::RowsFailed } else { Exit::Usage }
        }
        Ok(()) | Err(Stop::Rollback) if opts.atomic && summary.failed > 0 => Exit::AtomicFailed,
        Ok(()) | Err(Stop::Rollback) if summary.failed > 0 => Exit::RowsFailed,
        Ok(()) | Err(Stop::Rollback) => Exit::Ok,
    };
    println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    exit
}

fn import(opts: &Options, settings: &Settings, summary: &mut Summary) -> Result<(), Stop> {
    if opts.mode == ImportMode::Upsert && opts.resource != ImportResource::Stakeholders {
        return Err(Stop::Input("--mode upsert is for stakeholders only (by e-mail)".into()));
    }
    let (mut file, errors_path) = open(opts)?;
    let doc = serde_json::to_value(crate::startup::openapi()).map_err(|e| Stop::Input(e.to_string()))?;
    let (columns, total_rows) = check_shape(&mut file, opts, &doc)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    file.rewind().map_err(|e| Stop::Input(format!("cannot read the file again: {e}")))?;

    let pool = db::connect(&settings.database_url, db::PoolOptions::command(WRITERS as u32))
        .map_err(|e| Stop::Database(format!("{e:#}")))?;
    let mut conn = pool.get().map_err(|e| Stop::Database(e.to_string()))?;
    // PostgreSQL, not the importer, is the bottleneck, and one backend uses
    // one core: chunks are written on two connections at once. SQLite has one writer.
    let writers = if matches!(&*conn, DbConnection::Pg(_)) { WRITERS } else { 1 };
    if settings.auto_migrate {
        db::migrate(&mut conn).map_err(|e| Stop::Database(format!("{e:#}")))?;
    }
    let mut errors = csv::Writer::from_path(&errors_path)
        .map_err(|e| Stop::Input(format!("cannot write the error file {}: {e}", errors_path.display())))?;
    // Written through now: an error file that cannot be written stops the run before any row.
    errors
        .write_record(["row", "field", "code", "message"])
        .and_then(|()| errors.flush().map_err(csv::Error::from))
        .map_err(|e| Stop::Input(format!("cannot write the error file {}: {e}", errors_path.display())))?;

    let writer = Writer::admin(&opts.actor, format!("import-{}", uuid::Uuid::now_v7()), settings.sla);
    let records = reader(opts, BufReader::new(file));
    let (start_row, batch_size) = (opts.start_row, usize::from(opts.batch_size));
    // The next chunk is read and converted while this one is written.
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::scope(|scope| {
        scope.spawn(move || read_chunks(records, &columns, start_row, batch_size, &tx));
        let mut run = Run { opts, writer, errors, summary, progress: Progress::new(size, total_rows), last_row: 1 };
        let result = if opts.atomic || opts.dry_run {
            // One transaction for the whole file, rolled back unless it all went in.
            db::write_tx(&mut conn, |c| {
                run.chunks(c, &rx)?;
                if opts.dry_run || run.summary.failed > 0 { Err(Stop::Rollback) } else { Ok(()) }
            })
        } else {
            drop(conn);
            run.commit_chunks(&pool, rx, writers)
        };
        run.progress.finish();
        run.errors.flush().map_err(|e| Stop::Output(format!("cannot write the error file: {e}")))?;
        match result {
            Ok(()) if opts.atomic => {
                run.summary.last_committed_row = Some(run.last_row);
                run.progress.committed(run.last_row);
                Ok(())
            }
            Err(Stop::Rollback) if opts.atomic && !opts.dry_run => {
                // Nothing was written.
                (run.summary.created, run.summary.updated, run.summary.unchanged) = (0, 0, 0);
                Err(Stop::Rollback)
            }
            other => other,
        }
    })
}

/// Up to `batch_size` rows from `start_row` on, as request bodies.
struct Chunk {
    /// Each body's row number.
    numbers: Vec<u64>,
    /// JSON objects, as a batch's `inputs`.
    bodies: Vec<Value>,
    /// The last row read (rows before `start_row` are read and skipped).
    last_row: u64,
    /// How far into the file.
    byte: u64,
}

/// The second pass's reading, on its own thread: chunks until the end of
/// the file or until the receiver is gone.
fn read_chunks<R: Read>(
    mut records: csv::Reader<R>,
    columns: &Columns,
    start_row: u64,
    batch_size: usize,
    tx: &mpsc::SyncSender<Result<Chunk, String>>,
) {
    let mut record = csv::StringRecord::new();
    let mut row = 1;
    loop {
        let (mut numbers, mut bodies) = (Vec::with_capacity(batch_size), Vec::with_capacity(batch_size));
        while bodies.len() < batch_size {
            match records.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    row += 1;
                    if row >= start_row {
                        numbers.push(row);
                        bodies.push(Value::Object(columns.body(&record)));
                    }
                }
                // The first pass read the same bytes: only a file changed under us gets here.
                Err(e) => {
                    let _ = tx.send(Err(format!("row {}: {}", row + 1, describe(&e))));
                    return;
                }
            }
        }
        if bodies.is_empty() {
            return;
        }
        if tx.send(Ok(Chunk { numbers, bodies, last_row: row, byte: records.position().byte() })).is_err() {
            return;
        }
    }
}

/// The file, or stdin spooled to a temporary file (it is read twice), and
/// the error file's path.
fn open(opts: &Options) -> Result<(File, PathBuf), Stop> {
    if opts.file == "-" {
        let mut spool = tempfile::tempfile().map_err(|e| Stop::Input(format!("cannot buffer stdin: {e}")))?;
        std::io::copy(&mut std::io::stdin().lock(), &mut spool)
            .map_err(|e| Stop::Input(format!("cannot read stdin: {e}")))?;
        spool.rewind().map_err(|e| Stop::Input(e.to_string()))?;
        let errors = opts.errors.clone().unwrap_or_else(|| PathBuf::from("stdin.errors.csv"));
        return Ok((spool, errors));
    }
    let path = Path::new(&opts.file);
    let file = File::open(path).map_err(|e| Stop::Input(format!("cannot open {}: {e}", path.display())))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(Stop::Input(format!("{} is a directory", path.display())));
    }
    let errors = opts.errors.clone().unwrap_or_else(|| PathBuf::from(format!("{}.errors.csv", opts.file)));
    if same_file(path, &errors) {
        return Err(Stop::Input(format!("the error file {} is the input file", errors.display())));
    }
    Ok((file, errors))
}

/// Whether two paths name one existing file (a link, `./x` and `x`).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn reader<R: Read>(opts: &Options, r: R) -> csv::Reader<R> {
    // RFC 4180: quoted fields hold delimiters, `""` and newlines; CRLF or LF; the BOM is dropped.
    csv::ReaderBuilder::new().delimiter(opts.delimiter).has_headers(true).flexible(false).from_reader(r)
}

/// The first pass: the header names writable fields, every record is UTF-8
/// with as many fields as the header. Returns the columns and the number
/// of records.
fn check_shape(file: &mut File, opts: &Options, doc: &Value) -> Result<(Columns, u64), Stop> {
    let mut r = reader(opts, QuoteCount { inner: BufReader::new(&mut *file), quotes: 0 });
    let header = r.headers().map_err(|e| Stop::Input(format!("row 1 (the header): {}", describe(&e))))?.clone();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(Stop::Input("the file has no header row".into()));
    }
    let names: Vec<&str> = header.iter().collect();
    let columns = Columns::from_header(doc, opts.resource.name(), &names).map_err(Stop::Input)?;
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    loop {
        match r.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                rows += 1;
                if std::str::from_utf8(record.as_slice()).is_err() {
                    return Err(Stop::Input(format!("row {} is not valid UTF-8", rows + 1)));
                }
            }
            Err(e) => return Err(Stop::Input(format!("row {}: {}", rows + 2, describe(&e)))),
        }
    }
    // The parser is lenient: a quote never closed takes the rest of the file
    // into one field. Every quote of a well-formed file has its pair.
    if r.get_ref().quotes % 2 == 1 {
        return Err(Stop::Input(
            "a quoted field is never closed (the file holds an odd number of `\"`): fix the file".into(),
        ));
    }
    Ok((columns, rows))
}

/// Counts the quote characters read through it.
struct QuoteCount<R> {
    inner: R,
    quotes: u64,
}

impl<R: Read> Read for QuoteCount<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.quotes += buf[..n].iter().filter(|b| **b == b'"').count() as u64;
        Ok(n)
    }
}

fn describe(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("has {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".into(),
        _ => e.to_string(),
    }
}

/// The second pass's writing.
struct Run<'a> {
    opts: &'a Options,
    writer: Writer,
    errors: csv::Writer<File>,
    summary: &'a mut Summary,
    progress: Progress,
    /// The last row written.
    last_row: u64,
}

impl Run<'_> {
    /// Writes every chunk in the caller's transaction (atomic, dry run).
    fn chunks(&mut self, conn: &mut DbConnection, chunks: &mpsc::Receiver<Result<Chunk, String>>) -> Result<(), Stop> {
        // The reader hangs up at the end of the file.
        while let Ok(chunk) = chunks.recv() {
            let chunk = chunk.map_err(Stop::Input)?;
            let outcomes = write(conn, &self.writer, self.opts, &chunk.bodies)?;
            self.done(&chunk, outcomes)?;
        }
        Ok(())
    }

    /// Writes each chunk in its own transaction, on `writers` connections
    /// at once. Chunks commit in file order (a writer waits for the one
    /// before), so what is committed is always every row up to
    /// `last_committed_row` and nothing after it.
    fn commit_chunks(
        &mut self,
        pool: &db::DbPool,
        chunks: mpsc::Receiver<Result<Chunk, String>>,
        writers: usize,
    ) -> Result<(), Stop> {
        let chunks = Mutex::new(chunks.into_iter().enumerate());
        let turns = Turns::default();
        let (done_tx, done_rx) = mpsc::channel::<(usize, Result<(Chunk, Outcomes), Stop>)>();
        let (writer, opts) = (self.writer.clone(), self.opts);
        let lines = self.progress.bar.is_none();
        let writer = &writer;
        std::thread::scope(|scope| {
            for _ in 0..writers {
                let (done_tx, chunks, turns) = (done_tx.clone(), &chunks, &turns);
                scope.spawn(move || {
                    let mut conn = match pool.get() {
                        Ok(c) => c,
                        Err(e) => {
                            turns.abort();
                            let _ = done_tx.send((usize::MAX, Err(Stop::Database(e.to_string()))));
                            return;
                        }
                    };
                    loop {
                        let next = chunks.lock().map_or(None, |mut c| c.next());
                        let Some((seq, chunk)) = next else { return };
                        let result = chunk.map_err(Stop::Input).and_then(|chunk| {
                            let turn = Turn { seq, last_row: chunk.last_row, lines };
                            let outcomes = commit_in_turn(&mut conn, writer, opts, &chunk.bodies, &turn, turns)?;
                            Ok((chunk, outcomes))
                        });
                        let failed = result.is_err();
                        if failed {
                            turns.abort();
                        }
                        if done_tx.send((seq, result)).is_err() || failed {
                            return;
                        }
                    }
                });
            }
            drop(done_tx);
            // In file order: the tally, the error file, the progress.
            let mut pending = BTreeMap::new();
            let mut next = 0;
            let mut stop = None;
            for (seq, result) in done_rx {
                match result {
                    Ok(done) => {
                        pending.insert(seq, done);
                    }
                    Err(e) => {
                        if !matches!(e, Stop::Aborted) && stop.is_none() {
                            stop = Some(e);
                        }
                    }
                }
                while let Some((chunk, outcomes)) = pending.remove(&next) {
                    // Committed already: counted even when the error file fails.
                    if let Err(e) = self.done(&chunk, outcomes) {
                        turns.abort();
                        stop.get_or_insert(e);
                    }
                    self.summary.last_committed_row = Some(chunk.last_row);
                    next += 1;
                }
            }
            stop.map_or(Ok(()), Err)
        })
    }

    /// Counts a written chunk and lists its failed rows.
    fn done(&mut self, chunk: &Chunk, outcomes: Outcomes) -> Result<(), Stop> {
        self.tally(&chunk.numbers, outcomes)?;
        self.last_row = chunk.last_row;
        self.progress.read(chunk.byte, self.summary.rows);
        Ok(())
    }

    fn tally(&mut self, numbers: &[u64], outcomes: Outcomes) -> Result<(), Stop> {
        for (row, outcome) in numbers.iter().zip(outcomes) {
            self.summary.rows += 1;
            match outcome {
                Ok(BatchOperation::Created) => self.summary.created += 1,
                Ok(BatchOperation::Updated) => self.summary.updated += 1,
                Ok(BatchOperation::Unchanged) => self.summary.unchanged += 1,
                Err(e) => {
                    self.summary.failed += 1;
                    for fe in batch::item_errors(&e) {
                        self.errors
                            .write_record([row.to_string().as_str(), &fe.field, &fe.code, &fe.message])
                            .map_err(|e| Stop::Output(format!("cannot write the error file: {e}")))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// One chunk's outcomes, in its order: through the batch routes' own code.
fn write(c: &mut DbConnection, w: &Writer, opts: &Options, bodies: &[Value]) -> Result<Outcomes, Stop> {
    use stakeholders::routes::{create_all, email_key, upsert_one};
    let done = match (opts.resource, opts.mode) {
        (ImportResource::Stakeholders, ImportMode::Create) => create_all(c, w, bodies)?,
        (ImportResource::Stakeholders, ImportMode::Upsert) => {
            batch::run_items(c, bodies, email_key, |c, i| upsert_one(c, w, i))?
        }
        (ImportResource::Interactions, _) => {
            batch::run_items(c, bodies, |_| None, |c, i| interactions::routes::create_one(c, w, i))?
        }
        (ImportResource::Offers, _) => {
            batch::run_items(c, bodies, |_| None, |c, i| offers::routes::create_one(c, w, i))?
        }
        (ImportResource::Complaints, _) => {
            batch::run_items(c, bodies, |_| None, |c, i| complaints::routes::create_one(c, w, i))?
        }
    };
    let outcomes: Outcomes = done.into_iter().map(|d| d.map(|d| d.operation)).collect();
    // A lost database is the run's failure, not the row's.
    if let Some(Err(e)) = outcomes.iter().find(|o| matches!(o, Err(ApiError::Unavailable(_)))) {
        return Err(Stop::Database(e.problem().detail));
    }
    Ok(outcomes)
}

/// A chunk's outcomes, row by row.
type Outcomes = Vec<Result<BatchOperation, ApiError>>;

/// How long a written chunk waits for the chunk before it to commit before
/// it rolls back and waits without its locks (the chunk before may be
/// waiting for one of them: a deadlock the database cannot see).
const TURN_WAIT: Duration = Duration::from_secs(2);

/// Connections writing at once (PostgreSQL).
const WRITERS: usize = 2;

/// Writes and commits chunk `seq` once every chunk before it has committed.
fn commit_in_turn(
    conn: &mut DbConnection,
    w: &Writer,
    opts: &Options,
    bodies: &[Value],
    turn: &Turn,
    turns: &Turns,
) -> Result<Outcomes, Stop> {
    let seq = turn.seq;
    let mut wait = Some(TURN_WAIT);
    loop {
        let result = db::write_tx(conn, |c| {
            let outcomes = write(c, w, opts, bodies)?;
            turns.wait(seq, wait)?;
            Ok(outcomes)
        });
        match result {
            Err(Stop::Turn) => {
                turns.wait(seq, None)?;
                wait = None;
            }
            Ok(outcomes) => {
                // Said at once, before the next chunk may commit: a kill
                // right after the commit leaves at most this line unsaid.
                if turn.lines {
                    eprintln!("committed through row {}", turn.last_row);
                }
                turns.done(seq);
                return Ok(outcomes);
            }
            Err(e) => return Err(e),
        }
    }
}

/// A chunk's place in the commit order.
struct Turn {
    seq: usize,
    last_row: u64,
    /// Print `committed through row N` (no progress bar).
    lines: bool,
}

/// The commit order of chunks.
#[derive(Default)]
struct Turns {
    next: Mutex<usize>,
    changed: Condvar,
    aborted: AtomicBool,
}

impl Turns {
    /// Until it is chunk `seq`'s turn: `Turn` after `timeout`, `Aborted` if a writer failed.
    fn wait(&self, seq: usize, timeout: Option<Duration>) -> Result<(), Stop> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut next = self.next.lock().map_err(|_| Stop::Aborted)?;
        loop {
            if self.aborted.load(Ordering::SeqCst) {
                return Err(Stop::Aborted);
            }
            if *next == seq {
                return Ok(());
            }
            next = match deadline {
                None => self.changed.wait(next).map_err(|_| Stop::Aborted)?,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Stop::Turn);
                    }
                    self.changed.wait_timeout(next, left).map_err(|_| Stop::Aborted)?.0
                }
            };
        }
    }

    fn done(&self, seq: usize) {
        if let Ok(mut next) = self.next.lock() {
            *next = seq + 1;
        }
        self.changed.notify_all();
    }

    fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
        // Taken so that no waiter misses the flag between its check and its wait.
        drop(self.next.lock());
        self.changed.notify_all();
    }
}

/// A progress bar on a terminal (rows, rows/s, share of the file read);
/// otherwise one `committed through row N` line per commit.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
}

impl Progress {
    fn new(bytes: u64, rows: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(bytes.max(1));
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:40} {percent:>3}% of the file  {msg}  eta {eta}")
            {
                bar.set_style(style);
            }
            bar.set_message(format!("0/{rows} rows"));
            bar
        });
        Self { bar, started: Instant::now() }
    }

    fn read(&self, byte: u64, rows: u64) {
        if let Some(bar) = &self.bar {
            let rate = rows as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            bar.set_position(byte);
            bar.set_message(format!("{rows} rows  {rate:.0} rows/s"));
        }
    }

    fn committed(&self, row: u64) {
        if self.bar.is_none() {
            eprintln!("committed through row {row}");
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
