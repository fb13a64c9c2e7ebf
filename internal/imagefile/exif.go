package imagefile

import "encoding/binary"

// tagOrientation is the TIFF/EXIF Orientation tag (a SHORT, 1..8).
const tagOrientation = 0x0112

// jpegOrientation walks the JPEG marker segments up to the first scan and
// returns the EXIF Orientation from the first APP1 "Exif" segment. EXIF is
// optional metadata: anything missing or malformed yields 1 (as stored);
// whether the image itself is sound is the decoder's call.
func jpegOrientation(data []byte) int {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return 1
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7): // no length
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2 : i+4]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure, in either
// byte order.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:4]) != 42 {
		return 1
	}
	ifd := int64(bo.Uint32(t[4:8]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 1
	}
	count := int(bo.Uint16(t[ifd : ifd+2]))
	for k := range count {
		e := ifd + 2 + int64(k)*12
		if e+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:e+2]) != tagOrientation {
			continue
		}
		// SHORT (3), count 1: the value sits in the first two bytes of the
		// value field. Some writers use LONG (4); accept that too.
		var v uint32
		switch bo.Uint16(t[e+2 : e+4]) {
		case 3:
			v = uint32(bo.Uint16(t[e+8 : e+10]))
		case 4:
			v = bo.Uint32(t[e+8 : e+12])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}
