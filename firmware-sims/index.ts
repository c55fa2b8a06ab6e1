/**
 * `epara/emulation`: the device emulators as a package entry, so a gateway's own tests can run an
 * emulated fleet against their EparaServer (as Z-Wave JS users do with its mock controller):
 *
 *   import { startFleet } from 'epara/emulation';
 *   const fleet = await startFleet({ devices: 'microcomputer:3,gpu-server:1', server: { host, port }, provision, dataDir });
 *
 * Every emulated device is the real EparaDevice over a real transport; the link emulators add
 * line pacing and fault injection in process. The `epara fleet` and `epara demo` commands import
 * this entry too.
 */
export { startFleet, planFleet, parseFleetSpec, type Fleet, type FleetGroup, type FleetOptions } from './fleet.js';
export { EmulatedDevice, withServiceTime, type BehaviourOverrides, type EmulatedDeviceOptions, type EmulatedDeviceEvents } from './emulated-device.js';
export { PROFILES, PROFILE_NAMES, SERVICE_SPECS, DEFAULT_WORK, profileFor, workSpec, serviceTimeMs, throughputRps, type DeviceProfile, type ProfileName, type WorkSpec } from './profiles.js';
export { runDemo, findFixtureModels, type DemoOptions } from './demo.js';
export { int8FcLoader } from './int8-fc-runtime.js';
export { Int8FcModel, int8FcArtifact, int8FcArtifactSize, BASYS3_FC_DIMS, type Int8FcDims, type Int8FcResult } from '../src/conformance/int8-fc-model.js';
export { emulatedSerialPair, SERIAL_LINK_OPTIONS, type SerialLinkOptions, type LinkControl, type LinkCounters } from './links/serial-link.js';
export { BleRadio, BLE_RADIO_OPTIONS, defaultPacketsPerEvent, type BleRadioOptions } from './links/ble-link.js';
export { EmulatedBleBindings, EmulatedPeripheral, type EmulatedBindingsOptions, type EmulatedPeripheralSpec } from './links/ble-peripheral-bindings.js';
export { VirtualClock, type VirtualClockOptions } from './links/virtual-clock.js';
export { ChunkSink } from './links/chunk-sink.js';
export { mulberry32, type Prng } from './links/prng.js';
