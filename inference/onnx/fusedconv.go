package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

const (
	fNodeDomain  = 7 // NodeProto.domain
	fAttrStr     = 4 // AttributeProto.s
	fAttrFloats  = 7 // AttributeProto.floats
	fusedConvOp  = "FusedConv"
	fusedActAttr = "activation"
	fusedParAttr = "activation_params"
)

// UnfusedConvs rewrites every com.microsoft FusedConv whose activation is
// Relu or Clip (and that has no Z input) into a plain Conv followed by that
// activation. It returns the model and the number of nodes rewritten.
//
// Why: graphs saved after ONNX Runtime's CPU optimisations (OpenSeeFace's
// *_opt.onnx) carry FusedConv nodes; its CUDA provider claims them and then
// refuses the Clip activation when the session is created ("unsupported
// conv activation mode Clip"), so the 66-point model would not open on
// CUDA at all. The split graph computes the same values.
func UnfusedConvs(model []byte) ([]byte, int, error) {
	return rewriteGraph(model, unfuseGraph)
}

func unfuseGraph(graph []byte) ([]byte, int, error) {
	nodes, rest, err := splitNodes(graph)
	if err != nil {
		return nil, 0, err
	}
	repl := map[int][][]byte{}
	var inits []byte
	for i, nd := range nodes {
		if nd.op != fusedConvOp || len(nd.in) > 3 || len(nd.out) != 1 {
			continue
		}
		body, _ := protowire.ConsumeBytes(nd.field[protowire.SizeTag(fGraphNode):])
		act, params := fusedActivation(body)
		y, conv := nd.out[0], nd.out[0]+"/conv"
		var next node
		switch {
		case act == "Relu":
			next = node{op: "Relu", in: []string{conv}, out: y}
		case act == "Clip" && len(params) == 2:
			lo, hi := y+"/clip_min", y+"/clip_max"
			next = node{op: "Clip", in: []string{conv, lo, hi}, out: y}
			for _, t := range [][]byte{scalarTensor(lo, params[0]), scalarTensor(hi, params[1])} {
				inits = protowire.AppendTag(inits, fGraphInit, protowire.BytesType)
				inits = protowire.AppendBytes(inits, t)
			}
		default:
			continue
		}
		repl[i] = [][]byte{plainConv(body, conv), next.proto()}
	}
	return append(append(joinNodes(nodes, nil, repl), rest...), inits...), len(repl), nil
}

// fusedActivation reads a FusedConv's activation name and parameters.
func fusedActivation(node []byte) (act string, params []float32) {
	for _, a := range allBytes(node, fNodeAttribute) {
		switch string(firstBytes(a, fAttrName)) {
		case fusedActAttr:
			act = string(firstBytes(a, fAttrStr))
		case fusedParAttr:
			params = floats(a, fAttrFloats)
		}
	}
	return act, params
}

// plainConv is the FusedConv node as a default-domain Conv writing out:
// the same inputs and attributes, less the activation ones.
func plainConv(node []byte, out string) []byte {
	var b []byte
	_ = fields(node, func(num protowire.Number, _ protowire.Type, field, v []byte) error {
		switch num {
		case fNodeOutput, fNodeDomain:
		case fNodeOpType:
			b = protowire.AppendTag(b, fNodeOpType, protowire.BytesType)
			b = protowire.AppendString(b, convOpType)
		case fNodeName:
			name, _ := protowire.ConsumeBytes(v)
			b = protowire.AppendTag(b, fNodeName, protowire.BytesType)
			b = protowire.AppendString(b, string(name)+"/conv")
		case fNodeAttribute:
			a, _ := protowire.ConsumeBytes(v)
			if n := string(firstBytes(a, fAttrName)); n != fusedActAttr && n != fusedParAttr {
				b = append(b, field...)
			}
		default:
			b = append(b, field...)
		}
		return nil
	})
	b = protowire.AppendTag(b, fNodeOutput, protowire.BytesType)
	return protowire.AppendString(b, out)
}

// floats reads a repeated float field, packed or not.
func floats(msg []byte, num protowire.Number) []float32 {
	var out []float32
	_ = fields(msg, func(n protowire.Number, typ protowire.Type, _, v []byte) error {
		if n != num {
			return nil
		}
		switch typ {
		case protowire.Fixed32Type:
			u, _ := protowire.ConsumeFixed32(v)
			out = append(out, math.Float32frombits(u))
		case protowire.BytesType:
			p, _ := protowire.ConsumeBytes(v)
			out = append(out, leFloats(p)...)
		}
		return nil
	})
	return out
}

// scalarTensor is a rank-0 FLOAT TensorProto (Clip's min and max must be
// scalars).
func scalarTensor(name string, v float32) []byte {
	b := protowire.AppendTag(nil, fTensorDataType, protowire.VarintType)
	b = protowire.AppendVarint(b, dataTypeFloat)
	b = protowire.AppendTag(b, fTensorName, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, fTensorRawData, protowire.BytesType)
	return protowire.AppendBytes(b, binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
}
