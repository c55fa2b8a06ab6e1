import type { DeviceStateData } from '../event-stream-types.js';

/**
 * What the MQTT bridge publishes where, as zigbee2mqtt lays it out (docs/server.md, MQTT bridge):
 *
 *   <prefix>/bridge/state              online / offline (retained; offline is the broker's will)
 *   <prefix>/<device>/availability     online / offline (retained)
 *   <prefix>/<device>/state            the device's state summary as JSON (retained)
 *   <prefix>/<device>/deployment       deployment progress and results (not retained)
 *   <prefix>/bridge/plan               the current placement plan (retained)
 *   <prefix>/infer/<service>/request   inference requests (subscribed; MQTT 5 response topic + correlation data)
 *   <discovery>/sensor/epara_<device>/<object>/config   Home Assistant discovery (retained)
 *   <discovery>/binary_sensor/epara_bridge_<prefix>/connection_state/config   the bridge in HA (retained)
 *
 * `bridge` and `infer` are the bridge's own first levels: a device with one of those ids is not
 * published (RESERVED_IDS). Pure: topic names and payloads only.
 */
export const RESERVED_IDS: ReadonlySet<string> = new Set(['bridge', 'infer']);
export const ONLINE = 'online';
export const OFFLINE = 'offline';

export function topics(prefix: string, discoveryPrefix: string | false) {
  return {
    bridgeState: `${prefix}/bridge/state`,
    availability: (device: string) => `${prefix}/${device}/availability`,
    state: (device: string) => `${prefix}/${device}/state`,
    deployment: (device: string) => `${prefix}/${device}/deployment`,
    plan: `${prefix}/bridge/plan`,
    inferRequests: `${prefix}/infer/+/request`,
    /** The service a request topic names, or undefined when the topic is not one. */
    inferService: (topic: string): string | undefined => {
      const head = `${prefix}/infer/`;
      if (!topic.startsWith(head) || !topic.endsWith('/request')) return undefined;
      const s = topic.slice(head.length, -'/request'.length);
      return s.length > 0 && !s.includes('/') ? s : undefined;
    },
    /** Where a request without an MQTT 5 response topic is answered. */
    inferResponse: (service: string) => `${prefix}/infer/${service}/response`,
    discovery: (device: string, object: string, component = 'sensor', node = `epara_${device}`) => (discoveryPrefix === false ? undefined : `${discoveryPrefix}/${component}/${node}/${object}/config`),
  };
}

export type Topics = ReturnType<typeof topics>;

/** A device's retained state: its session status and, once it reported, its last STATE summary. */
export interface DeviceStatePayload extends Partial<Omit<DeviceStateData, 'deviceId'>> {
  status: string;
  deviceClass?: string;
}

export interface DiscoveryDevice {
  id: string;
  name: string;
  deviceClass: string;
  firmware?: string;
}

/**
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery):
 * one config per entity, retained, so a device appears with its status and load without any
 * configuration; available only while both the bridge and the device are online.
 */
/** The bridge itself in Home Assistant (its devices name it as via_device): a connectivity sensor on its state topic. */
export function bridgeDiscoveryConfig(t: Topics, prefix: string, swVersion: string): { topic: string; payload: Record<string, unknown> } | undefined {
  const id = bridgeId(prefix);
  const topic = t.discovery('bridge', 'connection_state', 'binary_sensor', id);
  if (!topic) return undefined;
  return {
    topic,
    payload: {
      name: 'Connection state',
      unique_id: `${id}_connection_state`,
      state_topic: t.bridgeState,
      payload_on: ONLINE,
      payload_off: OFFLINE,
      device_class: 'connectivity',
      entity_category: 'diagnostic',
      device: { identifiers: [id], name: `gateway ${prefix} (epara)`, model: 'MQTT bridge (epara)', manufacturer: 'epara', sw_version: swVersion },
      origin: { name: 'epara', sw_version: swVersion },
    },
  };
}

const bridgeId = (prefix: string) => `epara_bridge_${prefix.replace(/\//g, '_')}`;

export function discoveryConfigs(t: Topics, prefix: string, d: DiscoveryDevice, swVersion: string): Array<{ topic: string; payload: Record<string, unknown> }> {
  const device = { identifiers: [`epara_${d.id}`], name: d.name, model: d.deviceClass, manufacturer: 'epara', ...(d.firmware ? { sw_version: d.firmware } : {}), via_device: bridgeId(prefix) };
  const common = {
    state_topic: t.state(d.id),
    availability: [{ topic: t.bridgeState }, { topic: t.availability(d.id) }],
    availability_mode: 'all',
    device,
    origin: { name: 'epara', sw_version: swVersion },
  };
  const entities = [
    { object: 'status', payload: { name: 'Status', unique_id: `epara_${d.id}_status`, value_template: '{{ value_json.status }}', icon: 'mdi:chip' } },
    { object: 'load', payload: { name: 'Load', unique_id: `epara_${d.id}_load`, value_template: '{{ ((value_json.load | float(0)) * 100) | round(1) }}', unit_of_measurement: '%', state_class: 'measurement' } },
  ];
  return entities.flatMap((e) => {
    const topic = t.discovery(d.id, e.object);
    return topic ? [{ topic, payload: { ...common, ...e.payload } }] : [];
  });
}
