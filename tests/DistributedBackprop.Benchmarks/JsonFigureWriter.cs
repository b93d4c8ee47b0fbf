using System.Text.Json;

namespace DistributedBackprop.Benchmarks;

/// <summary>One JSON object per line per figure, for scripts: {"benchmark":"gemm","m":1024,…}.</summary>
internal sealed class JsonFigureWriter(TextWriter output) : IFigureWriter
{
    public void Write(Figure figure)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("benchmark", figure.Benchmark);
            foreach (var (name, value) in figure.Fields)
            {
                json.WritePropertyName(name);
                JsonSerializer.Serialize(json, value, value.GetType());
            }

            json.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        output.Flush();
    }
}
