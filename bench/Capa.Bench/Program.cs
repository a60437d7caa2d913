using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Capa.Bench;

// Decode benchmark of the local engine on `capa testmodel --size 0.5b` (Qwen2.5-0.5B shapes, random weights).
//   capa-bench [--models DIR] [--quants q4,int8,fp32] [--prompt 512] [--decode 128] [--rounds 2] [--js] [--out FILE]
//   capa-bench --json [--quants q4] [--decode 128] [--rounds 2]   decode with and without json_object (bench/RESULTS-json-mode.md)
//   capa-bench --batch-probe [--threads 1,2] [--half]   is a row's output the same alone and in a batch? (bench/RESULTS-serving.md)
// Each measurement runs in its own process (so peak RSS is per configuration), interleaved A B A B across rounds.
return args.Length > 0 && args[0] == "--child" ? await Child.RunAsync(args[1..])
    : args.Length > 0 && args[0] == "--json-child" ? await JsonModeBench.RunChildAsync(args[1..])
    : args.Length > 0 && args[0] == "--bandwidth" ? Bandwidth.Run()
    : args.Length > 0 && args[0] == "--batch-probe" ? BatchInvarianceProbe.Run(args[1..])
    : await Parent.RunAsync(args);
