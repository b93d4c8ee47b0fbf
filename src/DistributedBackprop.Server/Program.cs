using DistributedBackprop.Server.Hosting;
using Microsoft.Extensions.Hosting;

// The standalone silo: configuration from appsettings.json, then environment variables (Cluster__SiloPort=...),
// then command-line arguments (--Cluster:SiloPort=...).
var builder = Host.CreateApplicationBuilder(args);
builder.AddDistributedBackpropSilo();
builder.AddDistributedBackpropContainerHosting();
builder.AddDistributedBackpropTelemetry();
using var host = builder.Build();
await host.RunAsync();
