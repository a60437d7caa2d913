using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Capa.Bench;

/// <summary>Measures sustained memory read bandwidth (GB/s) with all cores summing a 1 GiB buffer; prints one number.</summary>
internal static class Bandwidth
{
    public static int Run()
    {
        const int Floats = 1 << 28; // 1 GiB
        var data = GC.AllocateUninitializedArray<float>(Floats, pinned: true);
        Array.Fill(data, 1f);
        var threads = Environment.ProcessorCount;
        var best = 0.0;
        for (var iteration = 0; iteration < 5; iteration++)
        {
            var sums = new float[threads];
            var sw = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                var part = Floats / threads;
                var span = MemoryMarshal.Cast<float, Vector<float>>(data.AsSpan(t * part, part));
                var acc0 = Vector<float>.Zero;
                var acc1 = Vector<float>.Zero;
                for (var i = 0; i + 1 < span.Length; i += 2)
                {
                    acc0 += span[i];
                    acc1 += span[i + 1];
                }

                sums[t] = Vector.Sum(acc0 + acc1);
            });
            var seconds = sw.Elapsed.TotalSeconds;
            best = Math.Max(best, Floats * 4.0 / seconds / 1e9);
            GC.KeepAlive(sums);
        }

        Console.WriteLine(best.ToString("F2", System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    }
}
