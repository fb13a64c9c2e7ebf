package deps
import (
 _ "github.com/ClickHouse/clickhouse-go/v2"
 _ "github.com/gofiber/fiber/v2"
 _ "github.com/hamba/avro/v2"
 _ "github.com/linkedin/goavro/v2"
 _ "github.com/lestrrat-go/jwx/v3/jwt"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "github.com/schollz/progressbar/v3"
 _ "github.com/segmentio/kafka-go"
 _ "github.com/segmentio/kafka-go/sasl/scram"
 _ "github.com/yalue/onnxruntime_go"
 _ "golang.org/x/image/webp"
 _ "github.com/google/uuid"
 _ "github.com/getkin/kin-openapi/openapi3"
)
