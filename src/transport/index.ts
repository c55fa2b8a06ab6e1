/**
 * epara transports: byte streams (UART/SPP, BLE, TCP/TLS, in-memory) and the FrameLink
 * reliability layer above them. Importing this never loads native Bluetooth code: BLE loads
 * noble on first use.
 */
export type { ByteStream, ByteStreamEvents, Connector, Listener, LinkKind } from './byte-stream.js';
export { realClock, type Clock, type TimerHandle } from './clock.js';
export { LINK_WIRE, linkError, closedError, type LinkCode } from './link-errors.js';
export { memoryPair } from './memory.js';
export { openSerial, type SerialOptions } from './serial.js';
export { listSerialPorts, guessChip, type SerialPortInfo, type SerialPortList } from './serial-ports.js';
export { connectTcp, listenTcp, type TcpConnectOptions, type TcpListenOptions } from './tcp.js';
export { connectBle, loadNoble, NUS, HM10, type BleOptions, type NobleLike } from './ble.js';
export { BLE_PROFILES, type BleProfile } from './ble-profiles.js';
export { FrameLink, type FrameLinkStats, type FrameLinkEvents, type ReplyFn, type RequestOptions } from './frame-link.js';
export { FRAME_LINK_OPTIONS, defaultsFor, attemptTimeoutMs, type FrameLinkOptions } from './frame-link-options.js';
export { ReconnectingConnector, reconnect, backoffDelay, RECONNECT_OPTIONS, type ReconnectOptions, type ReconnectingEvents } from './reconnect.js';
