package onnx

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from onnx.proto.
const (
	fModelGraph     = 7  // ModelProto.graph
	fGraphInput     = 11 // GraphProto.input
	fGraphOutput    = 12 // GraphProto.output
	fValueInfoType  = 2  // ValueInfoProto.type
	fTypeTensorType = 1  // TypeProto.tensor_type
	fTensorShape    = 2  // TypeProto.Tensor.shape
	fShapeDim       = 1  // TensorShapeProto.dim
	fDimValue       = 1  // TensorShapeProto.Dimension.dim_value
	fDimParam       = 2  // TensorShapeProto.Dimension.dim_param
	batchParam      = "N"

	fGraphValueInfo  = 13 // GraphProto.value_info
	fGraphNode       = 1  // GraphProto.node
	fGraphInit       = 5  // GraphProto.initializer
	fNodeInput       = 1  // NodeProto.input
	fNodeOutput      = 2  // NodeProto.output
	fNodeOpType      = 4  // NodeProto.op_type
	fNodeAttribute   = 5  // NodeProto.attribute
	fAttrName        = 1  // AttributeProto.name
	fAttrTensor      = 5  // AttributeProto.t
	fTensorDataType  = 2  // TensorProto.data_type
	fTensorInt64Data = 7  // TensorProto.int64_data
	fTensorName      = 8  // TensorProto.name
	fTensorRawData   = 9  // TensorProto.raw_data
	dataTypeInt64    = 7  // TensorProto.DataType.INT64
)

var errMalformed = errors.New("malformed ONNX model")

// DynamicBatch rewrites the serialized ModelProto so that every graph input
// and output whose first dimension is the constant 1 gets the symbolic
// dimension "N" instead. Everything else is copied byte for byte.
//
// Declared shapes are not enough when an operator pins the batch: a Reshape
// to the constant shape [1, ...] (exporters write the traced batch of 1
// into it). Such constants get 0 as their first element instead, which
// Reshape reads as "copy the input's dimension 0", the batch; and zero
// channels concatenated from a ConstantOfShape of batch 1 become a Pad
// (see zeroPadConcats). Each model
// marked batchable is still checked by running N=4 against four N=1 runs
// (inference/models/models_test.go), since a graph can pin the batch in ways
// no rewrite of this kind sees.
func DynamicBatch(model []byte) ([]byte, error) {
	opset := defaultOpset(model)
	return rewrite(model, fModelGraph, func(_ int, graph []byte) ([]byte, error) {
		graph, err := rewrite(graph, fGraphInput, valueInfo, fGraphOutput, fGraphValueInfo)
		if err != nil {
			return nil, err
		}
		if graph, err = unpinReshapes(graph); err != nil {
			return nil, err
		}
		return zeroPadConcats(graph, opset)
	})
}

// valueInfo rewrites ValueInfoProto.type.tensor_type.shape.dim[0].
func valueInfo(_ int, vi []byte) ([]byte, error) { return valueInfoDims(vi, firstDim) }

// valueInfoDims passes each ValueInfoProto.type.tensor_type.shape.dim
// through fn (i is the axis).
func valueInfoDims(vi []byte, fn func(i int, dim []byte) ([]byte, error)) ([]byte, error) {
	return rewrite(vi, fValueInfoType, func(_ int, tp []byte) ([]byte, error) {
		return rewrite(tp, fTypeTensorType, func(_ int, tt []byte) ([]byte, error) {
			return rewrite(tt, fTensorShape, func(_ int, sh []byte) ([]byte, error) {
				return rewrite(sh, fShapeDim, fn)
			})
		})
	})
}

// firstDim turns dim_value=1 into dim_param="N" on the first dimension only.
func firstDim(i int, dim []byte) ([]byte, error) {
	if i != 0 {
		return dim, nil
	}
	var out []byte
	for len(dim) > 0 {
		num, typ, n := protowire.ConsumeTag(dim)
		if n < 0 {
			return nil, errMalformed
		}
		m := protowire.ConsumeFieldValue(num, typ, dim[n:])
		if m < 0 {
			return nil, errMalformed
		}
		if num == fDimValue && typ == protowire.VarintType {
			v, _ := protowire.ConsumeVarint(dim[n:])
			if v == 1 {
				out = protowire.AppendTag(out, fDimParam, protowire.BytesType)
				out = protowire.AppendString(out, batchParam)
				dim = dim[n+m:]
				continue
			}
		}
		out = append(out, dim[:n+m]...)
		dim = dim[n+m:]
	}
	return out, nil
}

// rewrite copies a message, passing the payload of each length-delimited
// field numbered one of nums (the first argument, then extra) through fn;
// i counts occurrences of that field.
func rewrite(msg []byte, num protowire.Number, fn func(i int, b []byte) ([]byte, error), extra ...protowire.Number) ([]byte, error) {
	match := map[protowire.Number]bool{num: true}
	for _, e := range extra {
		match[e] = true
	}
	count := map[protowire.Number]int{}
	out := make([]byte, 0, len(msg)+64)
	err := fields(msg, func(fnum protowire.Number, typ protowire.Type, field, v []byte) error {
		if !match[fnum] || typ != protowire.BytesType {
			out = append(out, field...)
			return nil
		}
		payload, _ := protowire.ConsumeBytes(v)
		nb, err := fn(count[fnum], payload)
		if err != nil {
			return err
		}
		count[fnum]++
		out = protowire.AppendTag(out, fnum, protowire.BytesType)
		out = protowire.AppendBytes(out, nb)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// unpinReshapes finds the shape inputs of Reshape nodes and rewrites the
// initializers and Constant nodes that feed them.
func unpinReshapes(graph []byte) ([]byte, error) {
	shapes := map[string]bool{}
	err := eachField(graph, fGraphNode, func(node []byte) error {
		if string(firstBytes(node, fNodeOpType)) != "Reshape" {
			return nil
		}
		if in := allBytes(node, fNodeInput); len(in) >= 2 {
			shapes[string(in[1])] = true
		}
		return nil
	})
	if err != nil || len(shapes) == 0 {
		return graph, err
	}
	graph, err = rewrite(graph, fGraphInit, func(_ int, t []byte) ([]byte, error) {
		if !shapes[string(firstBytes(t, fTensorName))] {
			return t, nil
		}
		return setFirstToZero(t)
	})
	if err != nil {
		return nil, err
	}
	return rewrite(graph, fGraphNode, func(_ int, node []byte) ([]byte, error) {
		out := allBytes(node, fNodeOutput)
		if string(firstBytes(node, fNodeOpType)) != "Constant" || len(out) != 1 || !shapes[string(out[0])] {
			return node, nil
		}
		return rewrite(node, fNodeAttribute, func(_ int, attr []byte) ([]byte, error) {
			if string(firstBytes(attr, fAttrName)) != "value" {
				return attr, nil
			}
			return rewrite(attr, fAttrTensor, func(_ int, t []byte) ([]byte, error) { return setFirstToZero(t) })
		})
	})
}

// setFirstToZero rewrites a 1-D INT64 tensor whose first element is 1
// (raw little-endian or packed int64_data).
func setFirstToZero(t []byte) ([]byte, error) {
	if v, ok := firstVarint(t, fTensorDataType); !ok || v != dataTypeInt64 {
		return t, nil
	}
	if raw := firstBytes(t, fTensorRawData); len(raw) >= 8 {
		if raw[0] != 1 || raw[1]|raw[2]|raw[3]|raw[4]|raw[5]|raw[6]|raw[7] != 0 {
			return t, nil
		}
		return rewrite(t, fTensorRawData, func(_ int, b []byte) ([]byte, error) {
			nb := append([]byte(nil), b...)
			nb[0] = 0
			return nb, nil
		})
	}
	return rewrite(t, fTensorInt64Data, func(_ int, packed []byte) ([]byte, error) {
		v, n := protowire.ConsumeVarint(packed)
		if n < 0 || v != 1 {
			return packed, nil
		}
		return append(protowire.AppendVarint(nil, 0), packed[n:]...), nil
	})
}

// rewriteGraph applies fn, which edits a GraphProto and counts its edits,
// to the model's graph: the model and the count.
func rewriteGraph(model []byte, fn func(graph []byte) ([]byte, int, error)) ([]byte, int, error) {
	n := 0
	out, err := rewrite(model, fModelGraph, func(_ int, graph []byte) ([]byte, error) {
		g, k, err := fn(graph)
		n = k
		return g, err
	})
	return out, n, err
}

// fields walks the fields of a protobuf message in order, calling fn with
// each field's number, wire type, whole encoding (tag and value) and value
// bytes (after the tag). errStop from fn ends the walk without an error.
func fields(msg []byte, fn func(num protowire.Number, typ protowire.Type, field, value []byte) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return fmt.Errorf("%w: bad tag", errMalformed)
		}
		m := protowire.ConsumeFieldValue(num, typ, msg[n:])
		if m < 0 {
			return fmt.Errorf("%w: bad field %d", errMalformed, num)
		}
		if err := fn(num, typ, msg[:n+m], msg[n:n+m]); err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
		msg = msg[n+m:]
	}
	return nil
}

// errStop ends a fields walk early.
var errStop = errors.New("stop")

// eachField calls fn with the payload of every length-delimited field num.
func eachField(msg []byte, num protowire.Number, fn func([]byte) error) error {
	return fields(msg, func(fnum protowire.Number, typ protowire.Type, _, v []byte) error {
		if fnum != num || typ != protowire.BytesType {
			return nil
		}
		b, _ := protowire.ConsumeBytes(v)
		return fn(b)
	})
}

func allBytes(msg []byte, num protowire.Number) [][]byte {
	var out [][]byte
	_ = eachField(msg, num, func(b []byte) error { out = append(out, b); return nil })
	return out
}

func firstBytes(msg []byte, num protowire.Number) []byte {
	if all := allBytes(msg, num); len(all) > 0 {
		return all[0]
	}
	return nil
}

func firstVarint(msg []byte, num protowire.Number) (uint64, bool) {
	var v uint64
	found := false
	_ = fields(msg, func(fnum protowire.Number, typ protowire.Type, _, val []byte) error {
		if fnum != num || typ != protowire.VarintType {
			return nil
		}
		v, _ = protowire.ConsumeVarint(val)
		found = true
		return errStop
	})
	return v, found
}
