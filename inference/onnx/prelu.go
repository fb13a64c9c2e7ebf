package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// More field numbers from onnx.proto.
const (
	fNodeName       = 3  // NodeProto.name
	fTensorDims     = 1  // TensorProto.dims
	fTensorFloat    = 4  // TensorProto.float_data
	fAttrFloat      = 2  // AttributeProto.f
	fAttrType       = 20 // AttributeProto.type
	attrTypeFloat   = 1  // AttributeProto.AttributeType.FLOAT
	dataTypeFloat   = 1  // TensorProto.DataType.FLOAT
	preluOpType     = "PRelu"
	expandOpType    = "Expand"
	batchNormOpType = "BatchNormalization"
)

// PReluAsRelu rewrites every PRelu whose slope a is per channel (shape
// [C,1,1] or [1,C,1,1], an initializer or an Expand of one) into
//
//	y = x + Relu((a−1)·x)          when every a ≤ 1
//	y = x + (1−a)·Relu(−x)         otherwise
//
// with each product a BatchNormalization (that scale, bias 0, mean 0,
// var 1, epsilon 0). It returns the model and the number of PRelu
// rewritten.
//
// Why: ONNX Runtime's CPU layout pass (NCHWc) runs convolutions in a
// blocked layout that PRelu does not support, so every PRelu costs a
// reorder out of the blocked layout and one back in, on top of its own
// broadcast multiply; in the anti-spoof and iris models these were a third
// to a half of the run (ORT profile). BatchNormalization, Relu and Add all
// stay in the blocked layout (where the channel count allows, the
// BatchNormalization becomes a 1×1 depthwise convolution with the Relu
// fused into it). For x ≥ 0 the result is x
// exactly; for x < 0 it is x + (a−1)·x, which differs from a·x by float
// rounding only (a few ulps). The second form (one more node) serves the
// layers with a slope above 1, where Relu((a−1)·x) would drop x < 0.
func PReluAsRelu(model []byte) ([]byte, int, error) {
	return rewriteGraph(model, preluGraph)
}

func preluGraph(graph []byte) ([]byte, int, error) {
	inits := map[string][]byte{}
	if err := eachField(graph, fGraphInit, func(t []byte) error {
		inits[string(firstBytes(t, fTensorName))] = t
		return nil
	}); err != nil {
		return nil, 0, err
	}
	expands := map[string]string{} // Expand output → its initializer input
	_ = eachField(graph, fGraphNode, func(node []byte) error {
		if in := allBytes(node, fNodeInput); string(firstBytes(node, fNodeOpType)) == expandOpType && len(in) == 2 {
			if out := allBytes(node, fNodeOutput); len(out) == 1 {
				expands[string(out[0])] = string(in[0])
			}
		}
		return nil
	})
	slope := func(name string) ([]float32, bool) {
		t, ok := inits[name]
		if !ok {
			if src, isExp := expands[name]; isExp {
				t, ok = inits[src]
			}
		}
		if !ok {
			return nil, false
		}
		return perChannel(t)
	}
	var out, extra []byte
	n := 0
	if err := fields(graph, func(num protowire.Number, typ protowire.Type, field, v []byte) error {
		if num != fGraphNode || typ != protowire.BytesType {
			out = append(out, field...)
			return nil
		}
		node, _ := protowire.ConsumeBytes(v)
		in, outs := allBytes(node, fNodeInput), allBytes(node, fNodeOutput)
		if string(firstBytes(node, fNodeOpType)) != preluOpType || len(in) != 2 || len(outs) != 1 {
			out = append(out, field...)
			return nil
		}
		a, ok := slope(string(in[1]))
		if !ok {
			out = append(out, field...)
			return nil
		}
		nodes, inits := preluNodes(string(in[0]), string(outs[0]), a)
		out = append(out, nodes...)
		extra = append(extra, inits...)
		n++
		return nil
	}); err != nil {
		return nil, 0, err
	}
	return append(out, extra...), n, nil
}

// perChannel reads a float tensor of shape [C,1,1] or [1,C,1,1].
func perChannel(t []byte) ([]float32, bool) {
	f, ok := readFloatInit(t)
	d := f.dims
	if !ok || !(len(d) == 3 && d[1] == 1 && d[2] == 1 || len(d) == 4 && d[0] == 1 && d[2] == 1 && d[3] == 1) {
		return nil, false
	}
	a := f.data
	for _, v := range a {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, false
		}
	}
	return a, true
}

// leFloats decodes little-endian float32s (raw_data, packed float_data and
// packed floats alike); a trailing partial value is ignored.
func leFloats(raw []byte) []float32 {
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

// int64s reads a repeated int64 field, packed or not.
func int64s(msg []byte, num protowire.Number) []int64 {
	var out []int64
	for len(msg) > 0 {
		fnum, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return nil
		}
		m := protowire.ConsumeFieldValue(fnum, typ, msg[n:])
		if m < 0 {
			return nil
		}
		if fnum == num {
			switch typ {
			case protowire.VarintType:
				v, _ := protowire.ConsumeVarint(msg[n:])
				out = append(out, int64(v))
			case protowire.BytesType:
				b, _ := protowire.ConsumeBytes(msg[n:])
				for len(b) > 0 {
					v, k := protowire.ConsumeVarint(b)
					if k < 0 {
						return nil
					}
					out = append(out, int64(v))
					b = b[k:]
				}
			}
		}
		msg = msg[n+m:]
	}
	return out
}

// preluNodes returns the graph.node fields replacing one PRelu (x → y) and
// the graph.initializer fields they read.
func preluNodes(x, y string, a []float32) (nodes, inits []byte) {
	c := len(a)
	steep := false // some slope above 1
	for _, v := range a {
		steep = steep || v > 1
	}
	scale, neg, zero, one := make([]float32, c), make([]float32, c), make([]float32, c), make([]float32, c)
	for i, v := range a {
		scale[i], neg[i], one[i] = v-1, -1, 1
		if steep {
			scale[i] = 1 - v
		}
	}
	p := y + "/prelu_"
	tensors := []struct {
		name string
		v    []float32
	}{{p + "scale", scale}, {p + "zero", zero}, {p + "one", one}}
	bn := func(in, scale, out string) node {
		return node{batchNormOpType, []string{in, scale, p + "zero", p + "zero", p + "one"}, out, true}
	}
	var graph []node
	if steep {
		// x + (1−a)·Relu(−x): the negation is a BatchNormalization too.
		tensors = append(tensors, struct {
			name string
			v    []float32
		}{p + "neg", neg})
		graph = []node{
			bn(x, p+"neg", p+"negx"),
			{"Relu", []string{p + "negx"}, p + "relu", false},
			bn(p+"relu", p+"scale", p+"bn"),
			{"Add", []string{x, p + "bn"}, y, false},
		}
	} else {
		graph = []node{
			bn(x, p+"scale", p+"bn"),
			{"Relu", []string{p + "bn"}, p + "relu", false},
			{"Add", []string{x, p + "relu"}, y, false},
		}
	}
	for _, t := range tensors {
		inits = protowire.AppendTag(inits, fGraphInit, protowire.BytesType)
		inits = protowire.AppendBytes(inits, floatTensor(t.name, t.v))
	}
	for _, nd := range graph {
		nodes = protowire.AppendTag(nodes, fGraphNode, protowire.BytesType)
		nodes = protowire.AppendBytes(nodes, nd.proto())
	}
	return nodes, inits
}

// node is one NodeProto to write; eps0 adds epsilon = 0.
type node struct {
	op   string
	in   []string
	out  string
	eps0 bool
}

func (nd node) proto() []byte {
	var b []byte
	for _, s := range nd.in {
		b = protowire.AppendTag(b, fNodeInput, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = protowire.AppendTag(b, fNodeOutput, protowire.BytesType)
	b = protowire.AppendString(b, nd.out)
	b = protowire.AppendTag(b, fNodeName, protowire.BytesType)
	b = protowire.AppendString(b, nd.out+"/node")
	b = protowire.AppendTag(b, fNodeOpType, protowire.BytesType)
	b = protowire.AppendString(b, nd.op)
	if nd.eps0 {
		eps := protowire.AppendTag(nil, fAttrName, protowire.BytesType)
		eps = protowire.AppendString(eps, "epsilon")
		eps = protowire.AppendTag(eps, fAttrFloat, protowire.Fixed32Type)
		eps = protowire.AppendFixed32(eps, 0)
		eps = protowire.AppendTag(eps, fAttrType, protowire.VarintType)
		eps = protowire.AppendVarint(eps, attrTypeFloat)
		b = protowire.AppendTag(b, fNodeAttribute, protowire.BytesType)
		b = protowire.AppendBytes(b, eps)
	}
	return b
}

// floatTensor is a 1-D FLOAT TensorProto with raw little-endian data.
func floatTensor(name string, v []float32) []byte {
	return floatTensorDims(name, []int64{int64(len(v))}, v)
}

// floatTensorDims is a FLOAT TensorProto of the given dims with raw
// little-endian data.
func floatTensorDims(name string, dims []int64, v []float32) []byte {
	var b []byte
	for _, d := range dims {
		b = protowire.AppendTag(b, fTensorDims, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, fTensorDataType, protowire.VarintType)
	b = protowire.AppendVarint(b, dataTypeFloat)
	b = protowire.AppendTag(b, fTensorName, protowire.BytesType)
	b = protowire.AppendString(b, name)
	raw := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	b = protowire.AppendTag(b, fTensorRawData, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}
