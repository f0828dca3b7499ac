// Entry point of `hierimpute/mpi`: the world communicator and what a program needs to use it,
// without loading the imputation engine. A real MPI world under mpiexec/srun, a single rank otherwise.

/** The world of this process (created on first use; MPI is loaded only under a launcher). */
export { getWorld, MpiNotBuiltError, type Communicator, type Message, type RecvOptions, type ProbeResult } from './world.js';
/** What a payload may be: bytes (sent zero-copy) or a small JSON value. */
export type { Payload, JsonValue } from './codec.js';
/** The message tags `send` accepts (the task farm's protocol uses them too) and the recv/probe wildcards. */
export { TAG_TASK, TAG_DONE, TAG_STOP, TAG_ERROR, TAG_HELLO, ANY_SOURCE, ANY_TAG, type Tag } from './tags.js';
/** Which launcher (if any) started this process and how many tasks it announced. */
export { detectLaunch, type Launch, type LaunchMode } from './launch.js';
/** What the native build recorded (`mpi: false` when built without MPI); `mpiBuilt()` says whether getWorld can run under a launcher. */
export { buildInfo, mpiBuilt, type BuildInfo } from '../bindings/paths.js';
