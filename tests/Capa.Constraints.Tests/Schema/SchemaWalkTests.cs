using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Constraints.Vocabulary;
using NJsonSchema;

namespace Capa.Constraints.Tests.Schema;

public sealed class SchemaWalkTests
{
    private static readonly string OracleFolder = Path.Combine(TestVocabularies.RepositoryRoot, "tests", "oracle");

    [Fact]
    public async Task ThreeHundredRandomWalksValidateUnderNJsonSchemaAndAjv()
    {
        string[] names = [.. SchemaCorpus.Names];
        Assert.True(names.Length >= 20);
        TokenVocabulary vocab = TestVocabularies.Random(2024);
        var instances = new List<(string Schema, string Instance)>();
        int walks = 0;
        for (int i = 0; walks < 300; i++)
        {
            string name = names[i % names.Length];
            Grammar grammar = JsonGrammar.FromSchema(SchemaCorpus.Get(name));
            TokenConstraint constraint = TokenConstraint.Create(grammar, vocab);
            RandomWalker.Walk walk = RandomWalker.Run(constraint, seed: i, uniformSteps: 10 + (i * 7 % 90));
            string text = Encoding.UTF8.GetString(walk.Output);
            Assert.True(walk.Finished, $"{name} seed {i}: did not finish: {text}");
            walks++;

            JsonSchema schema = await JsonSchema.FromJsonAsync(ForNJsonSchema(SchemaCorpus.Text(name)));
            ICollection<NJsonSchema.Validation.ValidationError> errors = schema.Validate(text);
            Assert.True(errors.Count == 0, $"{name} seed {i}: {string.Join("; ", errors)}: {text}");
            using JsonDocument doc = JsonDocument.Parse(walk.Output);
            instances.Add((SchemaCorpus.Text(name), text));
        }

        string? ajvErrors = RunAjv(instances);
        Assert.True(ajvErrors is null or "", ajvErrors);
    }

    [Fact]
    public async Task BothValidatorsCatchAnInvalidInstance()
    {
        string bad = """{"root":{"value":1.5,"children":[]}}""";
        JsonSchema schema = await JsonSchema.FromJsonAsync(ForNJsonSchema(SchemaCorpus.Text("tree")));
        Assert.NotEmpty(schema.Validate(bad));
        string? ajv = RunAjv([(SchemaCorpus.Text("tree"), bad), (SchemaCorpus.Text("tuple"), """{"point":[1,2,"m",4]}""")]);
        Assert.True(ajv is null || ajv.Split('\n').Length == 2, ajv);
    }

    /// <summary>NJsonSchema reads draft 4-7: "$defs" becomes "definitions", prefixItems/items become items/additionalItems.</summary>
    internal static string ForNJsonSchema(string schema)
    {
        JsonNode node = JsonNode.Parse(schema.Replace("$defs", "definitions", StringComparison.Ordinal))!;
        Rewrite(node);
        return node.ToJsonString();

        static void Rewrite(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                if (o["prefixItems"] is JsonNode prefix)
                {
                    JsonNode? items = o["items"];
                    o.Remove("prefixItems");
                    o.Remove("items");
                    o["items"] = prefix;
                    if (items is not null)
                    {
                        o["additionalItems"] = items;
                    }
                }

                foreach (KeyValuePair<string, JsonNode?> kv in o.ToList())
                {
                    Rewrite(kv.Value);
                }
            }
            else if (n is JsonArray a)
            {
                foreach (JsonNode? item in a)
                {
                    Rewrite(item);
                }
            }
        }
    }

    /// <summary>Second, independent validator; null (skipped) when tests/oracle/node_modules is absent.</summary>
    internal static string? RunAjv(IReadOnlyList<(string Schema, string Instance)> instances)
    {
        string script = Path.Combine(OracleFolder, "ajv-validate.mjs");
        if (!Directory.Exists(Path.Combine(OracleFolder, "node_modules", "ajv")))
        {
            Console.WriteLine($"ajv check skipped: {OracleFolder}/node_modules is absent (npm ci in tests/oracle).");
            return null;
        }

        var payload = new JsonArray([.. instances.Select(x => (JsonNode)new JsonObject
        {
            ["schema"] = JsonNode.Parse(x.Schema),
            ["instance"] = JsonNode.Parse(x.Instance),
        })]);
        var psi = new ProcessStartInfo("node", [script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = OracleFolder,
        };
        using Process process = Process.Start(psi)!;
        process.StandardInput.Write(payload.ToJsonString());
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            return "ajv timed out";
        }

        if (process.ExitCode != 0)
        {
            return $"ajv failed: {stderr.Result}";
        }

        string[] results = JsonSerializer.Deserialize<string[]>(stdout.Result)!;
        var failures = results.Select((r, i) => (r, i)).Where(x => x.r.Length > 0).Select(x => $"{x.r}: {instances[x.i].Instance}").ToList();
        return failures.Count == 0 ? "" : string.Join("\n", failures.Take(10));
    }
}
