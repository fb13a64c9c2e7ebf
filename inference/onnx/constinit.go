package onnx

import "google.golang.org/protobuf/encoding/protowire"

const fValueInfoName = 1 // ValueInfoProto.name

// ConstantInitializers drops from the graph's inputs every entry that
// names an initializer, so the initializers are constants rather than
// inputs a caller may override. It returns the model and the number of
// inputs dropped; the inputs a caller feeds are unchanged.
//
// Why: exporters writing IR version 3 listed every weight among the
// graph's inputs (the 68-point landmark model, IR 4, has 152 of its 153
// inputs so). ONNX Runtime then treats each weight as a value that may
// change per run: it folds no BatchNormalization into its Conv, fuses
// no Relu and leaves the convolutions out of the CPU's blocked (NCHWc)
// layout. As constants they get all three; outputs move by float
// rounding only (a folded BatchNormalization rounds once where it
// rounded twice).
func ConstantInitializers(model []byte) ([]byte, int, error) {
	n := 0
	out, err := rewrite(model, fModelGraph, func(_ int, graph []byte) ([]byte, error) {
		inits, err := initializerNames(graph)
		if err != nil {
			return nil, err
		}
		var g []byte
		err = fields(graph, func(num protowire.Number, typ protowire.Type, field, v []byte) error {
			if num == fGraphInput && typ == protowire.BytesType {
				vi, _ := protowire.ConsumeBytes(v)
				if inits[string(firstBytes(vi, fValueInfoName))] {
					n++
					return nil
				}
			}
			g = append(g, field...)
			return nil
		})
		return g, err
	})
	return out, n, err
}

// initializerNames is the set of the graph's initializer names.
func initializerNames(graph []byte) (map[string]bool, error) {
	names := map[string]bool{}
	err := eachField(graph, fGraphInit, func(t []byte) error {
		names[string(firstBytes(t, fTensorName))] = true
		return nil
	})
	return names, err
}

// graphOutputNames is the set of the graph's output names (which a rewrite
// must keep).
func graphOutputNames(graph []byte) map[string]bool {
	names := map[string]bool{}
	_ = eachField(graph, fGraphOutput, func(vi []byte) error {
		names[string(firstBytes(vi, fValueInfoName))] = true
		return nil
	})
	return names
}
