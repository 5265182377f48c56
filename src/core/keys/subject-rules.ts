import { subjectTerminator } from "../../config/redis-pattern.js";
import type { DatasetConfig } from "../../config/types.js";
import { LetheError } from "../errors.js";
import { canonicalSubject } from "./canonical-key.js";

type PatternDataset = Pick<DatasetConfig, "name" | "pattern">;

/**
 * Why a subject id cannot be told apart in a dataset's keys, or undefined.
 * With `c:{subject}:*` the key `c:a:b:x` is both `a`'s and `a:b`'s: a hold on
 * `a:b` would not keep it and erasing `a` would delete it, so an id holding
 * the character that follows `{subject}` is refused for that dataset.
 *
 * @example
 * subjectIdProblem({ name: "prompts", pattern: "c:{subject}:*" }, "a:b"); // "contains \":\", …"
 */
export function subjectIdProblem(ds: PatternDataset, subject: string): string | undefined {
  const stop = ds.pattern === undefined ? undefined : subjectTerminator(ds.pattern);
  if (stop === undefined || !subject.includes(stop)) return undefined;
  return (
    `contains "${stop}", which ends the subject id in datasets.${ds.name}.pattern: ` +
    `its keys could not be told apart from those of the id before that "${stop}"`
  );
}

/**
 * A subject id canonical for every given dataset: {@link canonicalSubject},
 * then each dataset's own rule. Erasure, holds and requests ask here, before
 * anything is deleted or stored; the id itself is never echoed.
 *
 * @example
 * canonicalSubjectFor(config.datasets.values(), "user-42", "subject"); // "user-42"
 */
export function canonicalSubjectFor(datasets: Iterable<PatternDataset>, subject: unknown, where: string): string {
  const s = canonicalSubject(subject, where);
  for (const ds of datasets) {
    const problem = subjectIdProblem(ds, s);
    if (problem)
      throw new LetheError("VALIDATION", `${where}: the subject id ${problem}; it cannot be used with this dataset`, {
        dataset: ds.name,
      });
  }
  return s;
}
