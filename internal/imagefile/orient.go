package imagefile

// orient turns an image stored with the given EXIF orientation upright.
// Each of the eight cases is a walk through the source with a start offset
// and two byte steps (one along an output row, one down the output rows), so
// rotation and mirroring share one copy loop.
func orient(src *Image, o int) *Image {
	if o <= 1 || o > 8 {
		return src
	}
	W, H, S := src.Width, src.Height, src.Stride
	last := (H - 1) * S  // first byte of the last row
	right := (W - 1) * 3 // first byte of the last column
	var base, dx, dy int
	switch o {
	case 2: // mirror horizontally
		base, dx, dy = right, -3, S
	case 3: // rotate 180°
		base, dx, dy = last+right, -3, -S
	case 4: // mirror vertically
		base, dx, dy = last, 3, -S
	case 5: // transpose
		base, dx, dy = 0, S, 3
	case 6: // rotate 90° clockwise
		base, dx, dy = last, -S, 3
	case 7: // transverse
		base, dx, dy = last+right, -S, -3
	case 8: // rotate 90° counter-clockwise
		base, dx, dy = right, S, -3
	}
	w, h := W, H
	if swapsSides(o) {
		w, h = H, W
	}
	dst := newImage(w, h)
	dst.Scale, dst.Source = src.Scale, src.Source
	sp := src.Pix
	for y := range h {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+3*w]
		i := base + y*dy
		for x := 0; x < len(row); x += 3 {
			row[x], row[x+1], row[x+2] = sp[i], sp[i+1], sp[i+2]
			i += dx
		}
	}
	return dst
}
