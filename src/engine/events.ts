// The engine reports progress through this interface; output/ implements it (listr2 tree, plain lines).
// The engine never prints.
import type { TaskProgress } from '../core/progress.js';
import type { HostTaskResult, RunReport, TaskInfo } from './results.js';
import type { StepInfo, StepReport } from './steps.js';

export interface RunListener {
  playStart(name: string, hosts: string[], check: boolean): void;
  taskStart(task: TaskInfo, hosts: string[]): void;
  hostResult(task: TaskInfo, host: string, result: HostTaskResult): void;
  /** How far a running task is on a host, as its module reported it (ModuleContext.progress). */
  progress?(task: TaskInfo, host: string, progress: TaskProgress): void;
  /** Resolves when the output has finished rendering the task (listr2 renders asynchronously). */
  taskEnd(task: TaskInfo): Promise<void>;
  warn(message: string): void;
  /** Asks the operator a yes/no question (manual steps). Only called when the run is interactive. */
  confirm(task: TaskInfo, host: string, question: string): Promise<boolean>;
  runEnd(report: RunReport): void;
  /** A top-level entry of a play's task list starts on these hosts (once per serial batch). */
  stepStart?(step: StepInfo, hosts: string[]): void;
  /** The step ended for a batch, or was left out by --resume; `report` is its outcome so far. */
  stepEnd?(step: StepInfo, report: StepReport): void;
}
