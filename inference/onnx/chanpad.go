package onnx

import (
	"encoding/binary"

	"google.golang.org/protobuf/encoding/protowire"
)

const (
	fModelOpset   = 8 // ModelProto.opset_import
	fOpsetDomain  = 1 // OperatorSetIdProto.domain
	fOpsetVersion = 2 // OperatorSetIdProto.version
	fAttrInt      = 3 // AttributeProto.i
)

// zeroPadConcats rewrites every Concat(x, ConstantOfShape(s)) on axis 1,
// s a constant int64 initializer and the ConstantOfShape filling zeros (no
// value attribute) for this Concat alone, into Pad(x, pads) appending
// s[1] zero channels: the same values, with no batch of 1 written into
// the graph. Barracuda exports pad channels so (the iris model's
// channel_padding, s = [1, 64, 16, 16]), which pinned its batch to 1.
// Pad takes its pads as an input from opset 11; older graphs are left
// alone.
func zeroPadConcats(graph []byte, opset int64) ([]byte, error) {
	if opset < 11 {
		return graph, nil
	}
	shapes := map[string][]int64{} // int64 initializers
	if err := eachField(graph, fGraphInit, func(t []byte) error {
		if v, ok := int64Tensor(t); ok {
			shapes[string(firstBytes(t, fTensorName))] = v
		}
		return nil
	}); err != nil {
		return nil, err
	}
	nodes, rest, err := splitNodes(graph)
	if err != nil {
		return nil, err
	}
	producer, uses := map[string]int{}, map[string]int{}
	for i, nd := range nodes {
		for _, o := range nd.out {
			producer[o] = i
		}
		for _, in := range nd.in {
			uses[in]++
		}
	}
	_ = eachField(graph, fGraphOutput, func(vi []byte) error { uses[string(firstBytes(vi, fValueInfoName))]++; return nil })
	drop := map[int]bool{}
	repl := map[int][][]byte{}
	var inits []byte
	for i, cat := range nodes {
		if cat.op != "Concat" || len(cat.in) != 2 || len(cat.out) != 1 || intAttr(cat.field, "axis") != 1 {
			continue
		}
		ci, ok := producer[cat.in[1]]
		if !ok || nodes[ci].op != "ConstantOfShape" || uses[cat.in[1]] != 1 || hasAttr(nodes[ci].field, "value") {
			continue
		}
		s, ok := shapes[nodes[ci].in[0]]
		if !ok || len(s) < 2 {
			continue
		}
		pads := make([]int64, 2*len(s))
		pads[len(s)+1] = s[1] // the end of axis 1
		name := cat.out[0] + "/pads"
		inits = protowire.AppendTag(inits, fGraphInit, protowire.BytesType)
		inits = protowire.AppendBytes(inits, int64TensorProto(name, pads))
		drop[ci] = true
		repl[i] = [][]byte{node{op: "Pad", in: []string{cat.in[0], name}, out: cat.out[0]}.proto()}
	}
	if len(repl) == 0 {
		return graph, nil
	}
	return append(append(joinNodes(nodes, drop, repl), rest...), inits...), nil
}

// defaultOpset is the model's opset version of the default ONNX domain.
func defaultOpset(model []byte) int64 {
	var v int64
	_ = eachField(model, fModelOpset, func(o []byte) error {
		if len(firstBytes(o, fOpsetDomain)) == 0 {
			n, _ := firstVarint(o, fOpsetVersion)
			v = int64(n)
		}
		return nil
	})
	return v
}

// nodeAttr is the node's attribute called name, nil when it has none.
func nodeAttr(nodeField []byte, name string) []byte {
	node, n := protowire.ConsumeBytes(nodeField[protowire.SizeTag(fGraphNode):])
	if n < 0 {
		return nil
	}
	for _, a := range allBytes(node, fNodeAttribute) {
		if string(firstBytes(a, fAttrName)) == name {
			return a
		}
	}
	return nil
}

func hasAttr(nodeField []byte, name string) bool { return nodeAttr(nodeField, name) != nil }

// intAttr is an INT attribute's value, -1 when absent.
func intAttr(nodeField []byte, name string) int64 {
	a := nodeAttr(nodeField, name)
	if a == nil {
		return -1
	}
	v, ok := firstVarint(a, fAttrInt)
	if !ok {
		return -1
	}
	return int64(v)
}

// int64Tensor reads a 1-D INT64 TensorProto (raw or int64_data).
func int64Tensor(t []byte) ([]int64, bool) {
	if v, ok := firstVarint(t, fTensorDataType); !ok || v != dataTypeInt64 {
		return nil, false
	}
	if raw := firstBytes(t, fTensorRawData); raw != nil {
		if len(raw)%8 != 0 {
			return nil, false
		}
		out := make([]int64, len(raw)/8)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return out, true
	}
	return int64s(t, fTensorInt64Data), true
}

// int64TensorProto is a 1-D INT64 TensorProto with raw little-endian data.
func int64TensorProto(name string, v []int64) []byte {
	b := protowire.AppendTag(nil, fTensorDims, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(len(v)))
	b = protowire.AppendTag(b, fTensorDataType, protowire.VarintType)
	b = protowire.AppendVarint(b, dataTypeInt64)
	b = protowire.AppendTag(b, fTensorName, protowire.BytesType)
	b = protowire.AppendString(b, name)
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	b = protowire.AppendTag(b, fTensorRawData, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}
