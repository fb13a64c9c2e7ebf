package onnx

import "google.golang.org/protobuf/encoding/protowire"

// KeptOutputs drops the graph's outputs not named in keep, the nodes left
// computing nothing that is still read, and the initializers no node reads
// any more. It returns the model and the number of outputs dropped.
//
// Why: the iris model also returns the iris's five points, which the eyes
// stage does not read; its branch was 12% of a run.
func KeptOutputs(model []byte, keep []string) ([]byte, int, error) {
	return rewriteGraph(model, func(graph []byte) ([]byte, int, error) { return keptOutputsGraph(graph, keep) })
}

func keptOutputsGraph(graph []byte, keep []string) ([]byte, int, error) {
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	dropped := 0
	var outs []byte
	err := fields(graph, func(num protowire.Number, typ protowire.Type, field, v []byte) error {
		if num == fGraphOutput && typ == protowire.BytesType {
			if vi, _ := protowire.ConsumeBytes(v); !kept[string(firstBytes(vi, fValueInfoName))] {
				dropped++
				return nil
			}
		}
		outs = append(outs, field...)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if dropped == 0 {
		return graph, 0, nil
	}
	nodes, rest, err := splitNodes(outs)
	if err != nil {
		return nil, 0, err
	}
	nodes = pruneDead(nodes, outs)
	read := map[string]bool{}
	for _, nd := range nodes {
		for _, in := range nd.in {
			read[in] = true
		}
	}
	var g []byte
	_ = fields(rest, func(num protowire.Number, typ protowire.Type, field, v []byte) error {
		if num == fGraphInit && typ == protowire.BytesType {
			if t, _ := protowire.ConsumeBytes(v); !read[string(firstBytes(t, fTensorName))] {
				return nil
			}
		}
		g = append(g, field...)
		return nil
	})
	return append(joinNodes(nodes, nil, nil), g...), dropped, nil
}
