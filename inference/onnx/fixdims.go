package onnx

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// FixedInputs rewrites the serialized ModelProto so that graph input i has
// exactly shapes[i] (every dimension, symbolic or not, becomes that value;
// a nil entry leaves input i as it is). Everything else is copied byte for
// byte.
//
// Why: with every input dimension known when the session is created, ONNX
// Runtime folds the graph's shape arithmetic (Shape → Gather → Concat →
// Reshape chains) into constants, plans one static memory pattern and picks
// layouts once, instead of re-inferring shapes on every Run. The session
// then accepts that one shape only.
func FixedInputs(model []byte, shapes [][]int64) ([]byte, error) {
	return rewrite(model, fModelGraph, func(_ int, graph []byte) ([]byte, error) {
		return rewrite(graph, fGraphInput, func(i int, vi []byte) ([]byte, error) {
			if i >= len(shapes) || shapes[i] == nil {
				return vi, nil
			}
			return fixShape(vi, shapes[i])
		})
	})
}

// fixShape sets ValueInfoProto.type.tensor_type.shape to dims.
func fixShape(vi []byte, dims []int64) ([]byte, error) {
	seen := 0
	out, err := rewrite(vi, fValueInfoType, func(_ int, tp []byte) ([]byte, error) {
		return rewrite(tp, fTypeTensorType, func(_ int, tt []byte) ([]byte, error) {
			return rewrite(tt, fTensorShape, func(_ int, sh []byte) ([]byte, error) {
				return rewrite(sh, fShapeDim, func(i int, _ []byte) ([]byte, error) {
					seen++
					if i >= len(dims) {
						return nil, fmt.Errorf("%w: input has more than %d dimensions", errMalformed, len(dims))
					}
					d := protowire.AppendTag(nil, fDimValue, protowire.VarintType)
					return protowire.AppendVarint(d, uint64(dims[i])), nil
				})
			})
		})
	})
	if err == nil && seen != len(dims) {
		err = fmt.Errorf("%w: input has %d dimensions, fixed shape has %d", errMalformed, seen, len(dims))
	}
	return out, err
}
