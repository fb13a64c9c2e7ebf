package onnx

import (
	"google.golang.org/protobuf/encoding/protowire"
)

const fusedConvOpType = "FusedConv" // com.microsoft: Conv with its activation

// OutputChannels keeps the first n channels of the graph's one output and
// prunes the convolutions behind it to what those channels read: the
// output's Conv keeps its first n filters; where it is grouped, it keeps
// its first groups only, so it reads fewer channels, and the Conv (or
// FusedConv) producing those keeps only them in turn, until a Conv reads
// all of its input. The kept channels are computed exactly as before. It
// returns the model and the number of convolutions pruned; 0, and the
// model unchanged, when the output is not made so.
//
// Why: the 66-point model's output is 66 heatmaps and 132 offset maps; the
// occlusion stage reads only the heatmaps' maxima. Its last three
// convolutions (a 1×1 in three groups, a 3×3 with four filters per
// channel, a 1×1 to 198 channels) were a third of its run, and neither
// grouped one runs in ONNX Runtime's blocked layout.
func OutputChannels(model []byte, n int64) ([]byte, int, error) {
	return rewriteGraph(model, func(graph []byte) ([]byte, int, error) { return outputChannelsGraph(graph, n) })
}

func outputChannelsGraph(graph []byte, n int64) ([]byte, int, error) {
	g, err := readConvGraph(graph)
	if err != nil {
		return nil, 0, err
	}
	outs := allBytes(graph, fGraphOutput)
	if len(outs) != 1 || n < 1 {
		return graph, 0, nil
	}
	out := string(firstBytes(outs[0], fValueInfoName))
	producer := map[string]int{}
	for i, nd := range g.nodes {
		for _, o := range nd.out {
			producer[o] = i
		}
	}
	e := newChanEdits()
	pruned := 0
	e.tensors[out] = true
	for t, keep := out, n; ; {
		readers := 1 // the output is read by no node; the tensors behind it by the Conv pruned last
		if t == out {
			readers = 0
		}
		i, ok := producer[t]
		if !ok || len(g.consumers[t]) != readers || (t != out && g.fixed[t]) {
			return graph, 0, nil
		}
		read, ok := g.pruneConv(i, keep, e)
		if !ok {
			return graph, 0, nil
		}
		pruned++
		if read == 0 {
			break // this Conv reads all its input
		}
		t, keep = g.nodes[i].in[0], read
		e.tensors[t] = true
	}
	graph, err = g.writeOutput(e, n)
	return graph, pruned, err
}

// pruneConv keeps the first keep filters of Conv or FusedConv node i (whole
// groups only when grouped) and returns how many input channels they read:
// 0 when that is all of them.
func (g *convGraph) pruneConv(i int, keep int64, e chanEdits) (read int64, ok bool) {
	nd := g.nodes[i]
	if nd.op != convOpType && nd.op != fusedConvOpType || len(nd.in) < 2 {
		return 0, false
	}
	w, found := g.owned(nd.in[1], e)
	group := max(intAttr(nd.field, "group"), 1)
	if !found || len(w.dims) != 4 || keep >= w.dims[0] || w.dims[0]%group != 0 {
		return 0, false
	}
	per := w.dims[0] / group // filters per group
	if group > 1 && keep%per != 0 {
		return 0, false
	}
	e.inits[nd.in[1]] = sliceAxis0(w, keep)
	if len(nd.in) > 2 && nd.in[2] != "" {
		b, found := g.owned(nd.in[2], e)
		if !found || len(b.dims) != 1 {
			return 0, false
		}
		e.inits[nd.in[2]] = sliceAxis0(b, keep)
	}
	if group == 1 {
		return 0, true
	}
	e.groups[i] = keep / per
	return keep / per * w.dims[1], true
}

// writeOutput is the graph with e applied and its output's channel
// dimension set to n.
func (g *convGraph) writeOutput(e chanEdits, n int64) ([]byte, error) {
	return rewrite(g.write(e), fGraphOutput, func(_ int, vi []byte) ([]byte, error) {
		return valueInfoDims(vi, func(axis int, dim []byte) ([]byte, error) {
			if axis != 1 {
				return dim, nil
			}
			return protowire.AppendVarint(protowire.AppendTag(nil, fDimValue, protowire.VarintType), uint64(n)), nil
		})
	})
}

// sliceAxis0 keeps the first n rows of f.
func sliceAxis0(f floatInit, n int64) floatInit {
	dims := append([]int64(nil), f.dims...)
	dims[0] = n
	inner := int64(len(f.data)) / f.dims[0]
	return floatInit{dims, f.data[:n*inner]}
}
