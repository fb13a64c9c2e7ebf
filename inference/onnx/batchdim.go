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
)

var errMalformed = errors.New("malformed ONNX model")

// DynamicBatch rewrites the serialized ModelProto so that every graph input
// and output whose first dimension is the constant 1 gets the symbolic
// dimension "N" instead. Everything else is copied byte for byte.
//
// It only touches the graph's declared interface: a model whose operators pin
// the batch (a Reshape to a constant [1, ...]) still fails or mixes images at
// N>1, which is why each batchable model is checked by running N=4 against
// four N=1 runs.
func DynamicBatch(model []byte) ([]byte, error) {
	return rewrite(model, fModelGraph, func(_ int, graph []byte) ([]byte, error) {
		return rewrite(graph, fGraphInput, valueInfo, fGraphOutput)
	})
}

// valueInfo rewrites ValueInfoProto.type.tensor_type.shape.dim[0].
func valueInfo(_ int, vi []byte) ([]byte, error) {
	return rewrite(vi, fValueInfoType, func(_ int, tp []byte) ([]byte, error) {
		return rewrite(tp, fTypeTensorType, func(_ int, tt []byte) ([]byte, error) {
			return rewrite(tt, fTensorShape, func(_ int, sh []byte) ([]byte, error) {
				return rewrite(sh, fShapeDim, firstDim)
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
	for len(msg) > 0 {
		fnum, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return nil, fmt.Errorf("%w: bad tag", errMalformed)
		}
		m := protowire.ConsumeFieldValue(fnum, typ, msg[n:])
		if m < 0 {
			return nil, fmt.Errorf("%w: bad field %d", errMalformed, fnum)
		}
		if match[fnum] && typ == protowire.BytesType {
			payload, _ := protowire.ConsumeBytes(msg[n:])
			nb, err := fn(count[fnum], payload)
			if err != nil {
				return nil, err
			}
			count[fnum]++
			out = protowire.AppendTag(out, fnum, protowire.BytesType)
			out = protowire.AppendBytes(out, nb)
		} else {
			out = append(out, msg[:n+m]...)
		}
		msg = msg[n+m:]
	}
	return out, nil
}
