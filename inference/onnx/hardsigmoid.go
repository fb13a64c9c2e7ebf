package onnx

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// HardSigmoidChains rewrites every chain Add(x, 3) → Clip(·, 0, 6) →
// Div(·, 6) whose links have no other consumer (the gate of a hard-swish,
// x·clip(x+3, 0, 6)/6, as PyTorch exports it) into one
// HardSigmoid(x; alpha 1/6, beta 0.5). It returns the model and the
// number of chains rewritten.
//
// Why: three element-wise passes over the activation, none of which ONNX
// Runtime's CPU blocked (NCHWc) layout supports, become one. The result
// differs from the chain's by float rounding only: (x+3)/6 against
// x·(1/6)+0.5, clipped alike.
func HardSigmoidChains(model []byte) ([]byte, int, error) {
	return rewriteGraph(model, hardSigmoidGraph)
}

// graphNode is a parsed NodeProto: op type, inputs, outputs, and the field.
type graphNode struct {
	op      string
	in, out []string
	field   []byte // the whole graph.node field, tag included
}

// joinNodes writes nodes back as graph.node fields, in order, leaving out
// those in drop and writing the NodeProtos repl[i], in order, in place of
// node i.
func joinNodes(nodes []graphNode, drop map[int]bool, repl map[int][][]byte) []byte {
	var out []byte
	for i, nd := range nodes {
		switch {
		case drop[i]:
		case repl[i] != nil:
			for _, r := range repl[i] {
				out = protowire.AppendTag(out, fGraphNode, protowire.BytesType)
				out = protowire.AppendBytes(out, r)
			}
		default:
			out = append(out, nd.field...)
		}
	}
	return out
}

// splitNodes parses a graph's nodes, in order, and keeps every other field
// of the graph as it was (rest, in order), for the rewrites that edit nodes
// and write the graph back as rest plus the nodes.
func splitNodes(graph []byte) (nodes []graphNode, rest []byte, err error) {
	err = fields(graph, func(num protowire.Number, typ protowire.Type, field, v []byte) error {
		if num != fGraphNode || typ != protowire.BytesType {
			rest = append(rest, field...)
			return nil
		}
		node, _ := protowire.ConsumeBytes(v)
		nodes = append(nodes, graphNode{string(firstBytes(node, fNodeOpType)), strs(allBytes(node, fNodeInput)), strs(allBytes(node, fNodeOutput)), field})
		return nil
	})
	return nodes, rest, err
}

func hardSigmoidGraph(graph []byte) ([]byte, int, error) {
	scalars := map[string]float32{} // scalar float initializers
	if err := eachField(graph, fGraphInit, func(t []byte) error {
		if v, ok := scalarFloat(t); ok {
			scalars[string(firstBytes(t, fTensorName))] = v
		}
		return nil
	}); err != nil {
		return nil, 0, err
	}
	nodes, rest, err := splitNodes(graph)
	if err != nil {
		return nil, 0, err
	}
	consumers := map[string][]int{}
	outputs := graphOutputNames(graph)
	for i, nd := range nodes {
		for _, in := range nd.in {
			consumers[in] = append(consumers[in], i)
		}
	}
	// only returns the single consumer of name, if it has op type op.
	only := func(name, op string) (int, bool) {
		c := consumers[name]
		if len(c) != 1 || outputs[name] || nodes[c[0]].op != op {
			return 0, false
		}
		return c[0], true
	}
	is := func(name string, v float32) bool { s, ok := scalars[name]; return ok && s == v }
	drop := map[int]bool{}
	repl := map[int][][]byte{}
	for i, add := range nodes {
		if add.op != "Add" || len(add.in) != 2 || len(add.out) != 1 || !is(add.in[1], 3) {
			continue
		}
		ci, ok := only(add.out[0], "Clip")
		clip := nodes[ci]
		if !ok || len(clip.in) != 3 || clip.in[0] != add.out[0] || !is(clip.in[1], 0) || !is(clip.in[2], 6) {
			continue
		}
		di, ok := only(clip.out[0], "Div")
		div := nodes[di]
		if !ok || len(div.in) != 2 || div.in[0] != clip.out[0] || !is(div.in[1], 6) {
			continue
		}
		// The HardSigmoid takes the Div's place: the Add and Clip go.
		drop[i], drop[ci] = true, true
		repl[di] = [][]byte{hardSigmoidNode(add.in[0], div.out[0])}
	}
	return append(joinNodes(nodes, drop, repl), rest...), len(repl), nil
}

func hardSigmoidNode(x, y string) []byte {
	b := protowire.AppendTag(nil, fNodeInput, protowire.BytesType)
	b = protowire.AppendString(b, x)
	b = protowire.AppendTag(b, fNodeOutput, protowire.BytesType)
	b = protowire.AppendString(b, y)
	b = protowire.AppendTag(b, fNodeName, protowire.BytesType)
	b = protowire.AppendString(b, y+"/hardsigmoid")
	b = protowire.AppendTag(b, fNodeOpType, protowire.BytesType)
	b = protowire.AppendString(b, "HardSigmoid")
	for _, a := range []struct {
		name string
		v    float32
	}{{"alpha", 1.0 / 6}, {"beta", 0.5}} {
		attr := protowire.AppendTag(nil, fAttrName, protowire.BytesType)
		attr = protowire.AppendString(attr, a.name)
		attr = protowire.AppendTag(attr, fAttrFloat, protowire.Fixed32Type)
		attr = protowire.AppendFixed32(attr, math.Float32bits(a.v))
		attr = protowire.AppendTag(attr, fAttrType, protowire.VarintType)
		attr = protowire.AppendVarint(attr, attrTypeFloat)
		b = protowire.AppendTag(b, fNodeAttribute, protowire.BytesType)
		b = protowire.AppendBytes(b, attr)
	}
	return b
}

// scalarFloat reads a FLOAT tensor of one value (shape [] or [1]).
func scalarFloat(t []byte) (float32, bool) {
	f, ok := readFloatInit(t)
	if !ok || len(f.dims) > 1 || len(f.data) != 1 {
		return 0, false
	}
	return f.data[0], true
}

func strs(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}
