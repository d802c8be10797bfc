import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for a request-serving process, applied when this module is evaluated. The entry points import it before
 * anything else, so it runs before any other module of the hub does: Node has parsed the module graph by then, but no
 * call has been served (the decisions V8 took while loading are about the modules' own, long-lived objects).
 *
 * `--no-allocation-site-pretenuring`: V8 may decide that an allocation site's objects are long-lived from the few
 * hundred it saw survive one scavenge, and from then on allocate them straight into the old generation; that decision
 * sticks. Under concurrent load a scavenge always catches every call in flight, so the hot per-call sites (request
 * objects, promises, the answer's buffers) can be judged long-lived in the first second of load, after which the process
 * promotes several times more per call and spends that much longer collecting it (docs/benchmarks.md, "Figures
 * behind decisions in the code"). Without pretenuring a long-lived object is copied once more before promotion: a small, bounded price.
 */
setFlagsFromString('--no-allocation-site-pretenuring');
