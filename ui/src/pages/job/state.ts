// The job page's state: the job, its seconds (a Timeline), its steps and the
// live bracket, owned here and read by the page's parts.
import { FINISHED, Job, Step } from "../../api";
import { cssVar } from "../../charts";
import { Timeline } from "../../timeline";

// Where a reload finds where its stream stopped and the names it knew.
export const lastEventKey = (id: string) => `headroom.events.${id}`;
export const namesKey = (id: string) => `headroom.names.${id}`;

export class JobState {
  readonly tl = new Timeline();
  // Steps by phase and index: each phase numbers its steps on its own.
  readonly steps = new Map<string, Step>();
  bracket: { lo: number; hi: number } | undefined;
  closed = false;

  constructor(
    readonly id: string,
    public job: Job,
  ) {}

  get sync(): string {
    return "job-" + this.id;
  }

  get finished(): boolean {
    return FINISHED.has(this.job.status);
  }

  get isStudy(): boolean {
    return this.job.kind === "study";
  }

  addStep(s: Step): void {
    this.steps.set(`${s.phase ?? ""}:${s.index ?? 0}`, s);
  }

  // bands shade a study's steps on the time charts.
  bands = (): { from: number; to: number; color: string }[] => {
    if (!this.isStudy) return [];
    const a = cssVar("--band-a"),
      b = cssVar("--band-b");
    return this.tl.stepBands().map((s, i) => ({ from: s.from, to: s.to, color: i % 2 ? a : b }));
  };
}
