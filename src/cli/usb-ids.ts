/**
 * USB VID:PID fingerprints of the bridges and boards an edge gateway meets, in the spirit of
 * zigbee-herdsman's adapter discovery: enough to tell the user what is probably on the other end
 * and which epara command to run next. Lower-case hex, as sysfs and `lsusb` print them.
 */
export interface UsbFingerprint {
  vendorId: string;
  /** `*` matches any product of the vendor. */
  productId: string;
  bridge: string;
  /** What is usually attached, for the `ports` guess column. */
  likely: string;
  /** Which epara role this port plays, used to suggest a next command. */
  role: 'usb-uart' | 'fpga-board' | 'mcu-board' | 'embedded-gpu' | 'microcomputer';
  /** FT2232-style multi-channel chips: which interface carries the UART (the others are JTAG). */
  uartInterface?: number;
}

export const USB_FINGERPRINTS: readonly UsbFingerprint[] = [
  { vendorId: '0403', productId: '6010', bridge: 'FTDI FT2232 (dual channel)', likely: 'Digilent Basys 3 / Arty: channel A is JTAG, channel B is the USB-UART to the FPGA', role: 'fpga-board', uartInterface: 1 },
  { vendorId: '0403', productId: '6001', bridge: 'FTDI FT232R USB-UART', likely: 'USB-UART adapter: an HC-05 in AT mode, or an MCU UART', role: 'usb-uart' },
  { vendorId: '0403', productId: '6011', bridge: 'FTDI FT4232 (quad channel)', likely: 'multi-port UART / JTAG adapter', role: 'usb-uart' },
  { vendorId: '0403', productId: '6014', bridge: 'FTDI FT232H', likely: 'USB-UART / JTAG adapter', role: 'usb-uart' },
  { vendorId: '0403', productId: '6015', bridge: 'FTDI FT-X (FT230X/FT231X)', likely: 'USB-UART adapter or a board with one', role: 'usb-uart' },
  { vendorId: '10c4', productId: 'ea60', bridge: 'Silicon Labs CP210x', likely: 'USB-UART adapter, or an ESP32 dev board', role: 'usb-uart' },
  { vendorId: '10c4', productId: 'ea70', bridge: 'Silicon Labs CP2105 (dual)', likely: 'dual USB-UART adapter', role: 'usb-uart' },
  { vendorId: '1a86', productId: '7523', bridge: 'WCH CH340', likely: 'USB-UART adapter, or an Arduino Nano / ESP8266 clone', role: 'usb-uart' },
  { vendorId: '1a86', productId: '55d4', bridge: 'WCH CH9102', likely: 'ESP32 dev board or USB-UART adapter', role: 'usb-uart' },
  { vendorId: '1a86', productId: '55d3', bridge: 'WCH CH343', likely: 'USB-UART adapter', role: 'usb-uart' },
  { vendorId: '067b', productId: '2303', bridge: 'Prolific PL2303', likely: 'USB-UART adapter (often a cable)', role: 'usb-uart' },
  { vendorId: '067b', productId: '23a3', bridge: 'Prolific PL2303GC', likely: 'USB-UART adapter', role: 'usb-uart' },
  { vendorId: '2341', productId: '*', bridge: 'Arduino (native USB CDC)', likely: 'Arduino board (MCU device)', role: 'mcu-board' },
  { vendorId: '2e8a', productId: '*', bridge: 'Raspberry Pi RP2040/RP2350 USB CDC', likely: 'Raspberry Pi Pico (MCU device)', role: 'mcu-board' },
  { vendorId: '303a', productId: '*', bridge: 'Espressif USB Serial/JTAG', likely: 'ESP32-S3/C3 board (MCU device)', role: 'mcu-board' },
  { vendorId: '0483', productId: '5740', bridge: 'STMicroelectronics Virtual COM Port', likely: 'STM32 board (MCU device)', role: 'mcu-board' },
  { vendorId: '0483', productId: '374b', bridge: 'ST-LINK/V2-1 VCP', likely: 'STM32 Nucleo/Discovery board (MCU device)', role: 'mcu-board' },
  { vendorId: '1366', productId: '*', bridge: 'SEGGER J-Link VCOM', likely: 'Nordic nRF development kit (MCU device)', role: 'mcu-board' },
  { vendorId: '0d28', productId: '0204', bridge: 'Arm DAPLink CMSIS-DAP', likely: 'micro:bit or DAPLink board (MCU device)', role: 'mcu-board' },
  { vendorId: '239a', productId: '*', bridge: 'Adafruit USB CDC', likely: 'Adafruit board (MCU device)', role: 'mcu-board' },
  { vendorId: '0955', productId: '7020', bridge: 'NVIDIA L4T USB device mode', likely: 'Jetson serial console over USB (embedded-gpu device)', role: 'embedded-gpu' },
  { vendorId: '0525', productId: 'a4a7', bridge: 'Linux USB gadget serial (g_serial)', likely: 'Raspberry Pi Zero in USB gadget mode (microcomputer device)', role: 'microcomputer' },
];

export function lookupUsb(vendorId: string | undefined, productId: string | undefined): UsbFingerprint | undefined {
  if (!vendorId) return undefined;
  const v = vendorId.toLowerCase().replace(/^0x/, '').padStart(4, '0');
  const p = (productId ?? '').toLowerCase().replace(/^0x/, '').padStart(4, '0');
  return (
    USB_FINGERPRINTS.find((f) => f.vendorId === v && f.productId === p) ??
    USB_FINGERPRINTS.find((f) => f.vendorId === v && f.productId === '*')
  );
}
