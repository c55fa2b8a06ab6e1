/**
 * The conformance kit: plays the gateway's side of protocol/SPEC.md against a device and reports
 * which rules it keeps. `epara conform <target>` is the command line; this is the library.
 */
export { runConformance, CONFORM_TIMINGS, type ConformOptions, type ConformReport } from './runner.js';
export { parseTarget, openTarget, formatTarget, type Target, type DeviceLinks, type OpenOptions } from './target.js';
export { allChecks, FIXED_CHECKS } from './catalogue.js';
export { toJUnit } from './report-junit.js';
export { builtinArtifact, customArtifact, type TestArtifact } from './artifacts.js';
export { FAMILIES, type CheckDef, type CheckResult, type CheckStatus, type Family } from './check.js';
export { ConformError } from './conform-error.js';
export { VERSION_2_ONLY } from './checks/version.js';
