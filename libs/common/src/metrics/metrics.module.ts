import { type DynamicModule, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { collectProcessMetrics } from './metrics.js';

/** `GET /metrics` with the process metrics, labelled with the app's name. */
@Module({})
export class MetricsModule {
  static forApp(app: string): DynamicModule {
    collectProcessMetrics(app);
    return { module: MetricsModule, controllers: [MetricsController] };
  }
}
