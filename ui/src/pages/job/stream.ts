// The job page's event stream: it resumes after the last event this tab saw
// (a reload does not replay what the page already loaded) and hands each
// event to the page.
import { events, Job, Step, WindowLike } from "../../api";
import { lastEventKey, namesKey, type JobState } from "./state";

export interface StreamHandlers {
  window(w: WindowLike): void;
  step(s: Step): void;
  phase(): void; // st.job.phase and st.bracket are updated
  status(): void; // st.job.status is updated
  end(): void;
  gone(): void;
}

// resumeAfter is the last event id this tab saw of the job (0: none), and
// the request names it knew then.
export function resumeAfter(id: string): { after: number; names: string[] } {
  const after = Number(sessionStorage.getItem(lastEventKey(id)) ?? 0) || 0;
  let names: string[] = [];
  if (after) {
    try {
      names = JSON.parse(sessionStorage.getItem(namesKey(id)) ?? "[]");
    } catch {
      /* none */
    }
  }
  return { after, names };
}

// follow streams the job's events after `after`; it returns the stop function.
export function follow(st: JobState, after: number, on: StreamHandlers): () => void {
  const id = st.id;
  let stop: (() => void) | null = null;
  stop = events(
    id,
    after,
    (type, data, eventID) => {
      if (eventID) sessionStorage.setItem(lastEventKey(id), String(eventID));
      switch (type) {
        case "window":
          on.window(data as WindowLike);
          break;
        case "step":
          if (data.index) on.step(data as Step); // the stream sends a Step
          break;
        case "phase": {
          const p = data as { phase?: string; name?: string; low?: number; high?: number };
          st.job.phase = p.phase ?? p.name ?? st.job.phase;
          if (typeof p.low === "number" || typeof p.high === "number") st.bracket = { lo: p.low ?? 0, hi: p.high ?? 0 };
          on.phase();
          break;
        }
        case "status":
          if ((data as Partial<Job>).status) st.job.status = (data as Job).status;
          on.status();
          break;
        case "end":
          stop?.();
          stop = null;
          sessionStorage.removeItem(lastEventKey(id));
          sessionStorage.removeItem(namesKey(id));
          on.end();
          break;
      }
    },
    (closed) => {
      if (closed) on.gone();
    },
  );
  return () => stop?.();
}
