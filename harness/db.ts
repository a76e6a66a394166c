import Database from 'better-sqlite3';
import type { ExploreResult } from './explore.ts';
import type { RealKillPoint } from './real-kill/run.ts';
import type { MutantResult } from './suite.ts';

/**
 * The results database: every run, its settings, per-(target, workload, seed, model)
 * results, counterexamples, mutants and real-kill points. A run whose settings match an
 * unfinished earlier run resumes it: units already stored are not run again.
 */
export class ResultsDb {
  readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, settings TEXT NOT NULL,
        status TEXT NOT NULL, states INTEGER, violations INTEGER, unknown INTEGER, mutants_caught INTEGER, mutants_total INTEGER,
        real_kill_points INTEGER, states_per_s REAL, summary TEXT);
      CREATE TABLE IF NOT EXISTS results (run_id INTEGER NOT NULL, target TEXT NOT NULL, workload TEXT NOT NULL, seed INTEGER NOT NULL,
        model TEXT NOT NULL, points INTEGER, states INTEGER, violations INTEGER, unknown INTEGER, sampled_points INTEGER, ms REAL,
        PRIMARY KEY (run_id, target, workload, seed, model));
      CREATE TABLE IF NOT EXISTS units (run_id INTEGER NOT NULL, unit TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (run_id, unit));
      CREATE TABLE IF NOT EXISTS violations (run_id INTEGER NOT NULL, target TEXT, workload TEXT, seed INTEGER, model TEXT, point INTEGER,
        path TEXT, detail TEXT, history TEXT, replay TEXT);
      CREATE TABLE IF NOT EXISTS mutants (run_id INTEGER NOT NULL, mutant TEXT NOT NULL, layer TEXT, change TEXT, caught INTEGER,
        workload TEXT, seed INTEGER, model TEXT, point INTEGER, path TEXT, detail TEXT, states INTEGER, ms REAL, PRIMARY KEY (run_id, mutant));
      CREATE TABLE IF NOT EXISTS real_kills (run_id INTEGER NOT NULL, k INTEGER NOT NULL, outcome TEXT, verdict TEXT, detail TEXT,
        PRIMARY KEY (run_id, k));
    `);
  }

  /** Starts a run, or resumes the last one with the same settings if it did not finish. */
  begin(settings: object): { id: number; resumed: boolean } {
    const json = JSON.stringify(settings);
    const last = this.db.prepare(`SELECT id, status, settings FROM runs ORDER BY id DESC LIMIT 1`).get() as { id: number; status: string; settings: string } | undefined;
    if (last && last.status === 'running' && last.settings === json) return { id: last.id, resumed: true };
    const r = this.db.prepare(`INSERT INTO runs (started_at, settings, status) VALUES (?, ?, 'running')`).run(new Date().toISOString(), json);
    return { id: Number(r.lastInsertRowid), resumed: false };
  }

  /** A unit (one exploration, mutant or real-kill phase) finished earlier in this run, or undefined. */
  unit<T>(runId: number, unit: string): T | undefined {
    const row = this.db.prepare(`SELECT json FROM units WHERE run_id = ? AND unit = ?`).get(runId, unit) as { json: string } | undefined;
    return row ? (JSON.parse(row.json) as T) : undefined;
  }

  saveExplore(runId: number, unit: string, r: ExploreResult, replay: (v: ExploreResult['violations'][number]) => string): void {
    const tx = this.db.transaction(() => {
      for (const [model, s] of Object.entries(r.byModel)) {
        this.db
          .prepare(`INSERT OR REPLACE INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?)`)
          .run(runId, r.target, r.workload, r.seed, model, r.points, s!.states, s!.violations, s!.unknown, s!.sampledPoints, s!.ms);
      }
      for (const v of r.violations) {
        this.db
          .prepare(`INSERT INTO violations VALUES (?,?,?,?,?,?,?,?,?,?)`)
          .run(runId, v.target, v.workload, v.seed, v.model, v.point, JSON.stringify(v.path), v.detail, JSON.stringify(v.history), replay(v));
      }
      this.db.prepare(`INSERT OR REPLACE INTO units VALUES (?,?,?)`).run(runId, unit, JSON.stringify(r));
    });
    tx();
  }

  saveMutant(runId: number, m: MutantResult): void {
    const v = m.by;
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT OR REPLACE INTO mutants VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`)
        .run(runId, m.mutant, m.layer, m.change, m.caught ? 1 : 0, v?.workload ?? null, v?.seed ?? null, v?.model ?? null, v?.point ?? null, v ? JSON.stringify(v.path) : null, v?.detail ?? null, m.states, m.ms);
      this.db.prepare(`INSERT OR REPLACE INTO units VALUES (?,?,?)`).run(runId, `mutant:${m.mutant}`, JSON.stringify(m));
    })();
  }

  saveRealKill(runId: number, points: RealKillPoint[], total: number): void {
    this.db.transaction(() => {
      for (const p of points) this.db.prepare(`INSERT OR REPLACE INTO real_kills VALUES (?,?,?,?,?)`).run(runId, p.k, p.outcome, p.verdict, p.detail ?? null);
      this.db.prepare(`INSERT OR REPLACE INTO units VALUES (?,?,?)`).run(runId, 'real-kill', JSON.stringify({ points: total, checked: points }));
    })();
  }

  finish(runId: number, s: { states: number; violations: number; unknown: number; mutantsCaught: number; mutantsTotal: number; realKillPoints: number; statesPerS: number; summary: string }): void {
    this.db
      .prepare(`UPDATE runs SET finished_at = ?, status = ?, states = ?, violations = ?, unknown = ?, mutants_caught = ?, mutants_total = ?, real_kill_points = ?, states_per_s = ?, summary = ? WHERE id = ?`)
      .run(new Date().toISOString(), s.violations > 0 || s.mutantsCaught < s.mutantsTotal ? 'failed' : 'passed', s.states, s.violations, s.unknown, s.mutantsCaught, s.mutantsTotal, s.realKillPoints, s.statesPerS, s.summary, runId);
  }

  report(limit = 10): string {
    const rows = this.db.prepare(`SELECT * FROM runs ORDER BY id DESC LIMIT ?`).all(limit) as Record<string, unknown>[];
    if (!rows.length) return 'no runs recorded yet';
    const lines = ['run  started                   status   states  viol  unk  mutants  kills  states/s  settings'];
    for (const r of rows) {
      lines.push(
        `${String(r.id).padEnd(4)} ${String(r.started_at).padEnd(25)} ${String(r.status).padEnd(8)} ${String(r.states ?? '-').padStart(6)}  ${String(r.violations ?? '-').padStart(4)}  ${String(r.unknown ?? '-').padStart(3)}  ${`${r.mutants_caught ?? '-'}/${r.mutants_total ?? '-'}`.padStart(7)}  ${String(r.real_kill_points ?? '-').padStart(5)}  ${r.states_per_s ? Math.round(r.states_per_s as number) : '-'}`.padEnd(84) + `  ${r.settings}`,
      );
    }
    return lines.join('\n');
  }

  close(): void {
    this.db.close();
  }
}
